// UI strings: Chinese first (the command hall), English on toggle. Only ever set with
// textContent. Matter data (descriptions, names) is never translated, only labelled.
"use strict";

window.I18N = {
  zh: {
    title: "网格化服务管理指挥中心",
    connecting: "连接中", live: "实时", offline: "已断开，重连中",
    kpi_accepted: "今日受理", kpi_completed: "今日办结", kpi_completion: "办结率",
    kpi_on_time: "按时办结率", kpi_satisfaction: "满意率", kpi_overdue: "超期", kpi_warnings: "预警",
    feed: "实时动态", map: "区域态势", open: "在办", overdue: "超期",
    trend_today: "今日分时", trend_30: "近30日", accepted: "受理", resolved: "办结",
    warnings: "预警与超期", commands: "一键指挥", rank_units: "乡镇排名", rank_villages: "村社排名",
    rank_depts: "部门排名", command_popup: "一键指挥 · 指令", ack: "确认收到", acked: "已确认",
    pending: "待确认", late: "超时未确认", login: "登录大屏", token: "令牌", connect: "连接",
    new: "新", changed: "更新", days: "天", left: "剩余", over: "超期", city: "全市",
    level_yellow: "黄色预警", level_red: "红色超期", level_escalated: "升级督办",
    level_grid_alert: "网格预警", level_calendar: "日历",
    state_accepted: "已受理", state_assigned: "已派单", state_signed_for: "已签收",
    state_in_progress: "办理中", state_resolved: "已办结", state_closed: "已关闭", state_merged: "已合并",
    no_items: "暂无", issued_by: "发令", due: "确认时限", forbidden: "无权查看该看板",
    unauthorized: "令牌无效或已过期", rank_open: "在办", rank_over: "超期", rank_rate: "办结率",
  },
  en: {
    title: "Grid Governance Command Center",
    connecting: "Connecting", live: "Live", offline: "Disconnected, retrying",
    kpi_accepted: "Accepted today", kpi_completed: "Completed today", kpi_completion: "Completion",
    kpi_on_time: "On time", kpi_satisfaction: "Satisfaction", kpi_overdue: "Overdue", kpi_warnings: "Warnings",
    feed: "Live feed", map: "Hierarchy", open: "open", overdue: "overdue",
    trend_today: "Today by hour", trend_30: "Last 30 days", accepted: "Accepted", resolved: "Resolved",
    warnings: "Warnings & overdue", commands: "One-click commands", rank_units: "Townships",
    rank_villages: "Villages", rank_depts: "Departments", command_popup: "One-click command",
    ack: "Acknowledge", acked: "Acknowledged", pending: "Pending", late: "Late",
    login: "Sign in to the board", token: "Token", connect: "Connect",
    new: "NEW", changed: "UPD", days: "d", left: "left", over: "over", city: "City",
    level_yellow: "Yellow", level_red: "Overdue", level_escalated: "Escalated",
    level_grid_alert: "Grid alert", level_calendar: "Calendar",
    state_accepted: "Accepted", state_assigned: "Assigned", state_signed_for: "Signed for",
    state_in_progress: "In progress", state_resolved: "Resolved", state_closed: "Closed", state_merged: "Merged",
    no_items: "None", issued_by: "by", due: "ack due", forbidden: "This token may not watch that board",
    unauthorized: "Invalid or expired token", rank_open: "Open", rank_over: "Over", rank_rate: "Done",
  },
};
