"""The simulator's phrasebook: what citizens, callers and grid workers of the reference city
say about each category of matter. Data only; :mod:`gridhub.simulate.texts` renders it.

A template is Chinese text with ``{slot}`` placeholders (the slots are listed below). A
leading ``U|`` keeps a template to urban places (communities), ``R|`` to rural ones
(villages); untagged templates fit both. Per category:

* ``keywords``: words of which every template of the category holds at least one (the tests
  check it, so a template cannot drift off its category);
* ``issues``: the problem in neutral words, framed per channel by :data:`FRAMES` (a
  caller's opening and closing, an app user's, a grid worker's);
* ``hotline`` / ``app`` / ``patrol``: whole texts in that channel's own voice (a caller's
  speech, a citizen's writing, a grid worker's report), used as they are.

Plain text only: no markup and no ASCII ``< > & " '`` except in :data:`SPECIAL`, the rare
suffix that exercises inert rendering downstream (Chinese quotes “” are fine anywhere).

Slots of a place (from the matter's grid): ``village`` (村/社区), ``township`` (乡镇/街道),
``city``, ``place`` (the natural village, the community, or the school / enterprise /
market area of an exclusive grid), ``home`` (a building and entrance in a community, the
natural village or villagers' group in a village), ``resident`` (居民 / 村民),
``company``, ``school``, ``market``. Other slots: :data:`NUMBERS`, :data:`CHOICES`,
``neighbor`` (老王) and ``elder`` (王大爷 / 李大娘).
"""

from __future__ import annotations

from typing import Final

#: Number slots: name → (lowest, highest, step); every draw is uniform over that range.
NUMBERS: Final[dict[str, tuple[int, int, int]]] = {
    "building": (1, 32, 1),
    "unit": (1, 6, 1),
    "floor": (2, 7, 1),
    "days": (2, 12, 1),
    "hours": (3, 20, 1),
    "weeks": (2, 4, 1),
    "months": (2, 10, 1),
    "years": (2, 8, 1),
    "count": (2, 8, 1),
    "households": (5, 48, 1),
    "people": (3, 26, 1),
    "temp": (9, 16, 1),
    "meters": (20, 300, 10),
    "length": (2, 15, 1),
    "lamps": (3, 12, 1),
    "mu": (3, 40, 1),
    "wage": (2, 80, 1),  # 万元
    "yuan": (300, 30000, 100),
    "fee": (200, 2000, 50),
    "cost": (50, 400, 10),
    "age": (68, 92, 1),
    "trees": (8, 60, 1),
    "head": (3, 40, 1),
}

#: Choice slots: name → the phrases one is drawn from.
CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "when": ("昨天晚上", "今天早上", "前天", "这两天", "上周末", "昨天下午", "今天凌晨"),
    "night": ("晚上十点多", "夜里十一点多", "半夜十二点以后", "凌晨一两点"),
    "morning": ("早上六点多", "早上七点左右", "每天一大早"),
    "street": (
        "人民路",
        "吉舒大街",
        "长安路",
        "站前街",
        "建设街",
        "新华路",
        "滨河路",
        "光明街",
        "朝阳路",
        "南环路",
        "北环路",
        "团结路",
        "文化街",
        "铁东路",
    ),
    "industry": (
        "米业",
        "建材",
        "饲料",
        "食品",
        "菌业",
        "木业",
        "牧业",
        "农机",
        "物流",
        "酒业",
        "包装",
        "粮食",
    ),
}

#: Chinese numerals for villagers' groups (三组) and numbered schools (第五小学).
NUMERALS: Final[tuple[str, ...]] = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")

#: How each channel frames an issue: openings and closings; ``closing_solved`` for a
#: patrol finding the grid worker solved on the spot; ``urgent`` added to urgent matters.
#: ``hotline-business`` (营商环境监督服务热线) frames enterprise matters (others are framed
#: as on the 12345 line).
FRAMES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "hotline": {
        "opening": (
            "您好，我想反映个事儿。",
            "喂，是12345吗？我反映一下，",
            "你好，我是{village}的，想反映个问题：",
            "您好，麻烦给记一下，",
            "我之前打过一次电话了，再反映一遍：",
            "你好，我想问问这事儿到底归谁管：",
            "喂，你好，",
            "",
        ),
        "closing": (
            "你们赶紧给看看吧。",
            "麻烦你们尽快派人来处理一下。",
            "这事儿都好几天了，希望能给个说法。",
            "我电话就是这个号，处理完了给我回个话。",
            "谢谢啊。",
            "找了好几回了也没人管，你们给催催。",
            "",
        ),
        "urgent": ("情况挺急的，麻烦尽快处理！", "这事儿等不了，麻烦快点！"),
    },
    "hotline-business": {
        "opening": (
            "您好，是营商环境热线吧？",
            "你好，我是做买卖的，想反映个情况：",
            "您好，我们是本地的企业，",
            "你好，",
        ),
        "closing": (
            "希望政府能帮企业协调解决。",
            "麻烦尽快给个答复。",
            "我们企业等着解决，谢谢。",
            "",
        ),
        "urgent": ("已经影响生产了，请尽快处理！",),
    },
    "app": {
        "opening": (
            "",
            "反映问题：",
            "您好！",
            "求助：",
            "本人是{village}{resident}，",
            "【{category}】",
        ),
        "closing": (
            "希望相关部门尽快处理，谢谢！",
            "已上传现场照片，请核实处理。",
            "盼复。",
            "麻烦尽快安排人员处理。",
            "之前反映过一次，至今没有解决。",
            "",
        ),
        "urgent": ("情况紧急，请尽快处理！",),
    },
    "patrol": {
        "opening": (
            "网格员巡查发现：",
            "网格员日常巡查时发现，",
            "网格员入户走访时群众反映：",
            "网格员巡查走访发现，",
            "{village}网格员报告：",
        ),
        "closing": (
            "已拍照上传，网格员无力解决，请求协调处置。",
            "已向村（社区）报告，需相关部门处置。",
            "已现场告知当事人，需进一步跟进。",
            "已登记在册，待派单处理。",
        ),
        "closing_solved": (
            "网格员已现场处置完毕。",
            "经网格员现场协调，问题已解决。",
            "网格员当场协调处理，群众表示满意。",
        ),
        "urgent": ("情况紧急，请立即处置。",),
    },
}

#: Reporter names: common surnames (roughly by frequency in Jilin) and given-name characters.
SURNAMES: Final[tuple[tuple[str, int], ...]] = (
    ("王", 90), ("李", 85), ("张", 80), ("刘", 70), ("赵", 35), ("杨", 30), ("陈", 28),
    ("孙", 30), ("于", 22), ("徐", 18), ("马", 18), ("高", 18), ("周", 16), ("吴", 14),
    ("郭", 14), ("姜", 13), ("董", 12), ("韩", 12), ("曲", 8), ("崔", 10), ("宋", 10),
    ("梁", 9), ("金", 10), ("朴", 6), ("曹", 8), ("郑", 8), ("冯", 8), ("田", 8),
    ("许", 7), ("何", 6), ("吕", 6), ("邱", 4), ("谢", 5), ("蔡", 4), ("秦", 5),
    ("白", 6), ("付", 6), ("孟", 6), ("丁", 5), ("关", 6), ("肖", 5), ("程", 5),
    ("唐", 5), ("苏", 5), ("姚", 4), ("鲁", 3), ("谭", 3), ("邓", 4), ("范", 4),
    ("石", 5), ("任", 5), ("袁", 4), ("佟", 4), ("隋", 3), ("那", 2), ("尹", 3),
)  # fmt: skip
GIVEN_MALE: Final[str] = "国建军伟强明海波志刚东宏新春立永宝福成德庆文学俊龙峰鹏涛斌"
GIVEN_FEMALE: Final[str] = "秀丽玉霞凤兰红梅芳艳华英桂珍淑静敏丹颖娜慧琳雪洁晶"
#: Share of hotline callers who leave only a surname (王先生 / 李女士).
SURNAME_ONLY_SHARE: Final[float] = 0.3

#: About one matter in 500 gets one of these suffixes: harmless text with the characters
#: a renderer must show literally.
SPECIAL_SHARE: Final[float] = 0.002
SPECIAL: Final[tuple[str, ...]] = (
    ' 补充：之前在app里提交过，页面提示 "提交失败 <错误码 502> & 请稍后重试"，'
    "客服说'系统在升级'，所以再报一次。",
    " 另：现场告示牌写着 \"A&B区 <施工中>\"，问了工人只说'不归我们管'。",
    " 备注：邻居在群里发了条 \"<紧急> 3号&5号楼都这样\" 的消息，还有人回'早就报过了'。",
)

#: For categories the phrasebook does not know (another city's data): ``{category}`` is
#: the category's Chinese name.
FALLBACK: Final[dict[str, tuple[str, ...]]] = {
    "keywords": ("方面的问题", "的事", "相关问题"),
    "issues": (
        "{place}有{category}方面的问题，需要有关部门协调解决",
        "{home}{resident}反映{category}相关问题，已经{days}天了还没有解决",
        "{village}{resident}反映的{category}的事，涉及{households}户人家，希望尽快处理",
    ),
}

#: Category code → its templates.
CATEGORIES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    # ---- livelihood (民生) ------------------------------------------------------------------
    "LIV-WATER": {
        "keywords": ("水",),
        "issues": (
            "{home}{when}突然停水，到现在已经{hours}个小时了，也没看到停水通知",
            "U|{home}自来水水压太低，{floor}楼以上基本接不上水，已经持续{days}天了",
            "{place}自来水发黄、有异味，烧开后有白色沉淀，担心影响饮用",
            "{place}路边供水管道漏水，水流到路面上，天冷了容易结冰",
            "U|{home}的水表冻裂了，往外呲水，需要供水公司来人更换",
            "R|{place}集中供水每天只供{hours}个小时，村民用水很不方便",
            "R|{place}的自来水井泵坏了{days}天，全屯{households}户吃水靠去邻屯拉",
        ),
        "hotline": (
            "U|你好，我家住{home}，这都停水{days}天了，做饭洗衣服都没水，"
            "楼上还有个{age}岁的老人，天天下楼拎水，你们给催催供水公司吧。",
            "R|喂，我是{village}的，我们屯子这自来水{when}又不来了，"
            "一停就是好几天，家里牲口都没水喝了。",
        ),
        "app": (
            "U|{home}{resident}反映：近{days}天{morning}水压都很小，热水器都打不着火，"
            "请供水公司检查一下管网。",
        ),
        "patrol": (
            "巡查发现{place}主街供水管线有明漏，漏水处约{length}米长，已设置警示，需供水公司抢修。",
        ),
    },
    "LIV-HEATING": {
        "keywords": ("暖气", "供热", "取暖", "室温", "锅炉"),
        "issues": (
            "U|{home}暖气不热，室温只有{temp}度，家里有老人孩子冻得受不了",
            "U|{home}暖气管道漏水，已经渗到楼下住户家，需要供热公司来人维修",
            "U|{home}整个单元暖气都不热，放了水也不管用，已经{days}天了",
            "U|{village}{building}号楼供热管线改造后暖气一直时冷时热，室温达不到18度",
            "U|{home}供热费已经交了，供热公司迟迟不给开栓，已经{days}天了",
            "R|{village}村部和卫生室的取暖锅炉坏了，冬天办事看病的人都冻得够呛",
            "R|{home}一户村民冬季取暖用的煤还没有着落，家里是低保户，请帮忙协调",
        ),
        "hotline": (
            "U|你好，我家住{home}，这暖气一点都不热，屋里穿棉袄都冷，"
            "温度计才{temp}度，找物业物业说是供热公司的事，你们给管管吧。",
        ),
        "app": (
            "U|{home}室温测了好几次都在{temp}度左右，低于规定的18度，"
            "已附测温照片，请供热公司上门检查。",
        ),
        "patrol": (
            "U|入户走访发现{home}多户居民反映暖气不热，现场测室温{temp}度，已报告供热公司。",
        ),
    },
    "LIV-GAS": {
        "keywords": ("燃气", "煤气", "液化气", "漏气"),
        "issues": (
            "U|{home}楼道里有一股煤气味，不知道哪里漏气，大家都很担心",
            "U|{home}燃气表显示有余额但是不走气，燃气灶打不着火",
            "U|{street}燃气管道改造施工挖开后一直没回填，已经{days}天了",
            "U|{home}有人自称燃气公司安检员上门，说必须换燃气报警器，收费{cost}元，"
            "不知道是不是正规的",
            "R|{place}有人上门推销液化气罐减压阀，说不换就会出事，村民怀疑是骗人的",
            "{place}一家饭店的液化气罐放在门口太阳底下暴晒，旁边就是人行道",
        ),
        "hotline": (
            "U|喂，我们{home}这楼道里煤气味特别大，我闻着头都有点晕，你们赶紧找燃气公司来看看吧。",
        ),
        "patrol": ("U|巡查发现{home}外墙燃气立管锈蚀严重，防腐层脱落，存在漏气隐患。",),
    },
    "LIV-POWER": {
        "keywords": ("电",),
        "issues": (
            "{home}{when}突然停电，到现在{hours}个小时还没来电，也没接到停电通知",
            "{home}电压不稳，晚上灯一闪一闪的，电器都不敢开",
            "R|{place}的电线杆倾斜，电线垂得很低，大车过去都能刮到",
            "R|{place}变压器容量不够，一到晚上用电高峰就跳闸",
            "U|{home}楼道电表箱门坏了，里面的线露在外面，孩子经常在附近玩",
        ),
        "hotline": (
            "我是{village}的，我们这一片停电好几个小时了，冰箱里的东西都化了，"
            "问供电公司也说不清啥时候来电。",
        ),
        "patrol": ("R|巡查发现{place}一处低压线路与树枝缠绕，刮风时有火花，需供电公司处理。",),
    },
    "LIV-ROAD": {
        "keywords": ("路", "桥", "坑"),
        "issues": (
            "{place}主路上有个大坑，晚上看不清，已经有人骑电动车摔倒了",
            "U|{street}靠近{village}的一段路面塌陷，只插了根树枝当标记，很危险",
            "R|通往{place}的村路年久失修，坑坑洼洼，下雨天车根本进不去",
            "R|{village}村口的小桥护栏被车撞断了{length}米，一直没修",
            "{place}路边的减速带被压坏了，螺丝露在外面，扎了好几个车胎",
            "U|{street}有一段人行道地砖松动翘起，老人走路经常被绊倒",
        ),
        "hotline": (
            "你好，我想反映一下{place}那个路，坑太多了，我{when}骑车差点摔了，"
            "这都多长时间了也没人修。",
        ),
        "patrol": ("巡查发现{place}路面出现约{length}米长的裂缝并有下沉，已设置警示标志。",),
    },
    "LIV-HOUSING": {
        "keywords": ("房", "物业", "电梯", "楼", "漏雨"),
        "issues": (
            "U|{home}楼顶防水层老化，一下雨{floor}楼屋里就漏雨，找物业一直推脱",
            "U|{home}的电梯停运{days}天了，楼上有老人下不了楼",
            "{home}{resident}申请公租房已经{months}个月了，一直没有结果，想问问进度",
            "U|{village}老旧小区改造后楼道灯和单元门禁又坏了，物业不给修",
            "R|{home}农村住房改造补助申请交上去{months}个月了还没批下来",
            "U|{home}{resident}买房{years}年了房产证还办不下来，开发商一直推",
        ),
        "hotline": (
            "U|我是{home}的住户，我家屋顶漏雨漏了{days}天了，墙皮都泡掉了，"
            "物业光说来看，就是不来修。",
        ),
        "app": (
            "U|{village}{building}号楼单元门坏了{weeks}周，谁都能进，物业费交了却没人管，"
            "请帮忙协调物业。",
        ),
    },
    "LIV-SOCSEC": {
        "keywords": ("养老金", "社保", "医保", "养老保险", "退休"),
        "issues": (
            "{home}一位老人的养老金这个月没到账，不知道是什么原因",
            "{home}{resident}想补缴城乡居民养老保险，不知道怎么办理",
            "{place}有{count}名退休人员反映养老金资格认证在手机上一直认证不过去",
            "{home}{resident}灵活就业社保缴费，网上显示缴费失败但钱已经扣了",
            "{home}{resident}办了医保异地就医备案，回来报销还是不成功",
        ),
        "hotline": (
            "你好，我是{village}的，我今年{age}了，退休金这个月到现在还没打到卡上，"
            "我问银行银行说没到账，你们帮我问问社保那边。",
        ),
    },
    "LIV-MEDICAL": {
        "keywords": ("医", "病", "卫生院", "药"),
        "issues": (
            "R|{village}卫生室的村医退休后一直没有新医生，村民看病要跑到镇里",
            "{township}卫生院夜间没有值班医生，前几天夜里有老人发烧没人接诊",
            "{home}有位{age}岁的老人卧床不起，家属想申请家庭医生上门服务",
            "{place}的药店卖的药比医院贵很多，医保卡还不能刷",
            "{home}{resident}反映在市医院做检查排队{hours}个小时，挂号太难",
        ),
        "hotline": (
            "喂，我想问一下，我家老人在{township}卫生院住院，报销比例咋这么低，"
            "跟当初说的不一样啊。",
        ),
    },
    "LIV-EDU": {
        "keywords": ("学", "校", "孩子", "老师"),
        "issues": (
            "{home}的孩子按户口应该在{school}上学，学校说名额满了不给入学",
            "{school}的校车超载，一辆面包车坐了十多个孩子",
            "{school}食堂饭菜质量差，孩子回家说吃不饱",
            "{school}有老师放学后在校外办补课班，每月收费{fee}元",
            "R|{village}离{school}太远，冬天孩子{morning}就得出门上学，路上没有路灯",
        ),
        "app": (
            "我家孩子在{school}读书，学校要求统一购买校服和辅导资料，一共{fee}元，"
            "不买不行，请问是否合规？",
        ),
    },
    "LIV-ASSIST": {
        "keywords": ("低保", "救助", "养老", "老人", "补贴", "照料"),
        "issues": (
            "{home}有位{age}岁的独居老人，子女都在外地打工，生活没人照料",
            "{home}一户家庭因病致贫，想申请低保，不知道需要什么材料",
            "{home}一名残疾人的两项补贴已经{months}个月没发了",
            "{village}的居家养老服务站冬天不开门，老人们没地方活动",
            "{home}{resident}的高龄补贴申请后一直没到账",
        ),
        "hotline": (
            "R|我是{village}的，我家老伴瘫在炕上{years}年了，我自己也{age}了，"
            "实在照顾不过来了，想问问能不能有人帮帮我们老人。",
            "U|我是{village}的，我家老伴瘫在床上{years}年了，我自己也{age}了，"
            "实在照顾不过来了，想问问社区能不能帮帮我们老人。",
        ),
        "patrol": (
            "入户走访发现{home}独居老人{elder}家中无人照料，屋里取暖不足，"
            "已送去米面油，需民政部门跟进救助。",
        ),
    },
    # ---- disputes and petitions (矛盾纠纷、信访) -------------------------------------------
    "DSP-NEIGHBOR": {
        "keywords": ("邻居", "纠纷", "矛盾", "争吵", "争执", "吵"),
        "issues": (
            "U|{home}{resident}与邻居{neighbor}因为楼道堆放杂物的问题发生争吵，双方互不相让",
            "R|{place}两户村民因宅基地边界的院墙问题发生纠纷，已经吵了{count}次",
            "U|{home}楼上住户长期往下扔垃圾、泼水，楼下邻居多次沟通无果，矛盾越来越大",
            "R|{place}村民{neighbor}家的狗咬伤了邻居家孩子，双方因赔偿问题起了争执",
            "U|{home}楼上卫生间漏水把楼下屋顶泡坏了，楼上拒绝维修，两家矛盾激化",
            "R|{place}两户邻居因排水沟往谁家门前走的问题多次争吵",
        ),
        "hotline": (
            "U|你好，我家住{home}，我们对门那家天天往楼道放东西，说了好几次不听，"
            "还骂人，你们能不能来人给调解一下邻居这个事。",
        ),
        "patrol": (
            "网格员走访时了解到{place}两户邻居因占道堆放柴草多次争吵，已初步调解，"
            "双方情绪仍较激动，需调解委员会跟进。",
        ),
    },
    "DSP-FAMILY": {
        "keywords": ("家庭", "夫妻", "离婚", "赡养", "子女", "抚养", "婆媳", "兄弟"),
        "issues": (
            "{home}一对夫妻经常吵架，{when}又动了手，邻居听见孩子在哭",
            "{home}一位{age}岁的老人反映几个子女都不尽赡养义务，互相推诿",
            "{place}兄弟{count}人因父母留下的房子怎么分闹矛盾，已经不来往了",
            "{home}{resident}反映离婚后对方不按时给孩子抚养费，已经拖了{months}个月",
            "{home}婆媳矛盾激烈，老人被赶出家门暂住在亲戚家",
        ),
        "patrol": (
            "入户走访时发现{home}夫妻二人因家庭琐事激烈争吵，网格员已现场劝解，"
            "建议妇联和司法所介入调解。",
        ),
    },
    "DSP-LAND": {
        "keywords": ("土地", "承包", "耕地", "地"),
        "issues": (
            "R|{place}村民反映自家{mu}亩承包地被邻居多种了两垄，双方争执不下",
            "R|{village}村集体机动地发包不公开，村民对承包费有意见",
            "R|{place}村民外出打工前流转出去的{mu}亩地，对方拖欠流转费{months}个月",
            "R|{place}村民反映二轮土地延包后自家地块面积少了{count}亩",
            "R|{place}修路占用了村民耕地，补偿款一直没有落实",
            "U|{home}{resident}在城郊的{mu}亩承包地被人占着耕种，多次协商无果",
        ),
        "hotline": (
            "R|我是{village}的，我家那{mu}亩地去年包给别人种了，说好秋后给钱，"
            "到现在一分没给，打电话也不接。",
        ),
    },
    "DSP-WAGE": {
        "keywords": ("工资", "工钱", "欠薪", "辞退", "劳动"),
        "issues": (
            "{place}一处建筑工地拖欠{people}名农民工工资共计约{wage}万元",
            "{home}{resident}在{company}打工{months}个月，老板以各种理由不发工资",
            "{company}没签劳动合同就辞退员工，也不给经济补偿",
            "{place}{people}名村民在外地干活的工钱被包工头卷走，人找不到了",
            "{company}拖欠保安、保洁人员工资{months}个月",
        ),
        "hotline": (
            "你好，我在{company}干了{months}个月了，工资一分没拿到，老板说等年底一块给，"
            "年底又说没钱，我们{people}个人都是这情况。",
        ),
    },
    "DSP-PROPERTY": {
        "keywords": ("物业", "业主"),
        "issues": (
            "U|{village}{building}号楼业主与物业因物业费上涨发生纠纷，{households}户业主联名拒交",
            "U|{home}物业擅自把小区绿地改成收费停车位，业主不同意",
            "U|{village}一个小区的物业合同到期后不撤场，业主选的新物业进不来",
            "U|{home}物业以欠物业费为由停了业主家的门禁卡",
            "U|{village}一个小区物业的停车费、广告费收益从不公开，业主要求公示",
            "{village}一个小区物业服务差，垃圾不清、楼道不扫，业主和物业矛盾很大",
        ),
    },
    "DSP-PETITION": {
        "keywords": ("信访", "诉求", "答复", "多次反映", "说法", "调查"),
        "issues": (
            "{home}{resident}反映{years}年前的征地补偿问题一直没解决，已多次信访",
            "{place}村民联名反映低保评定中有优亲厚友的情况，要求调查",
            "{home}{resident}对上次的信访答复不满意，要求重新调查处理",
            "{place}{households}户居民的回迁安置房逾期{years}年未交付，要求有关部门给个说法",
            "{home}{resident}反映退役军人优抚待遇落实问题，已多次反映未果",
        ),
        "hotline": (
            "我这个事儿都反映{count}回了，{years}年前占我家地的补偿到现在也没给全，"
            "每次都说研究研究，今天必须给我个说法。",
        ),
    },
    # ---- enterprises (企业) ----------------------------------------------------------------
    "ENT-APPEAL": {
        "keywords": ("企业", "公司", "厂", "生产"),
        "issues": (
            "{company}反映厂区门前道路破损严重，货车进出困难，希望协调修缮",
            "{company}反映生产用电经常停电，影响正常生产，请求协调供电部门",
            "{company}反映园区供热管网没有接入，企业只能自建锅炉，成本很高",
            "{company}希望协调开通厂区员工上下班的公交线路",
            "{company}今年产品滞销，希望政府帮助企业对接销售渠道",
        ),
        "hotline": (
            "您好，我是{company}的负责人，我们厂门口那条路坑坑洼洼的，大货车进不来，"
            "反映好几次了，希望政府帮忙协调一下。",
        ),
    },
    "ENT-BIZENV": {
        "keywords": ("营商环境", "办事", "窗口", "检查", "工程款", "乱收费", "中介"),
        "issues": (
            "{company}反映到政务大厅办事，窗口人员态度生硬，材料一次说不清，跑了{count}趟",
            "{company}反映执法检查过于频繁，一个月来了{count}次，影响正常经营",
            "{company}反映{years}年前给政府部门干的工程，工程款至今未结算",
            "{company}反映办理业务时被要求找指定的中介机构，费用很高",
            "{market}商户反映市场管理方乱收费，卫生费一年涨了{count}次",
        ),
        "hotline": (
            "你好，是营商环境热线吧？我们公司前年给{township}干的工程，{wage}万的工程款"
            "到现在还没结，找谁都说没钱，企业快撑不住了。",
        ),
    },
    "ENT-POLICY": {
        "keywords": ("政策", "补贴", "资金", "减免", "奖补", "贴息"),
        "issues": (
            "{company}咨询稳岗返还补贴怎么申请，需要准备哪些材料",
            "{company}申请的技术改造专项资金已经提交{months}个月了，想了解审批进度",
            "{company}想了解小微企业税费减免政策是否适用",
            "{company}反映惠企政策申报系统上传不了附件，申报截止日期快到了",
            "{company}咨询农产品加工企业有没有贷款贴息政策",
        ),
        "app": (
            "我们是{company}，符合高新技术企业认定条件，想申请相关奖补政策，"
            "请有关部门联系我们指导申报。",
        ),
    },
    "ENT-PERMIT": {
        "keywords": ("办证", "审批", "许可", "执照", "证"),
        "issues": (
            "{company}办理建设工程规划许可证，材料已齐全但{weeks}周了还没批下来",
            "{home}{resident}想开个小饭店，办食品经营许可证跑了{count}趟还没办下来",
            "{company}营业执照变更经营范围，网上办理一直显示审核中",
            "{company}排污许可证到期，续期申请提交后一直没有回复",
            "{company}办理不动产权证书，因为历史遗留问题卡住了",
        ),
    },
    "ENT-LABOR": {
        "keywords": ("用工", "招", "工人", "贷款", "融资", "资金"),
        "issues": (
            "{company}季节性用工缺口大，需要招{people}名工人，希望人社部门帮忙对接",
            "{company}扩大生产需要流动资金约{wage}万元，银行贷款审批难，希望协调",
            "{company}招不到技术工人，希望联系职业学校定向培养",
            "{company}因原材料涨价资金周转困难，申请续贷被银行要求先还款",
            "{company}想参加政府组织的银企对接会，不知道怎么报名融资",
        ),
    },
    # ---- social order (社会治安) -------------------------------------------------------------
    "SOC-PUBLIC": {
        "keywords": ("偷", "打架", "闹事", "可疑", "治安", "监控"),
        "issues": (
            "{place}最近有{count}户人家的电动车电瓶晚上被偷",
            "{place}有几个年轻人经常深夜聚集喝酒闹事，居民晚上不敢出门",
            "R|{place}村民家羊圈里的{count}只羊一夜之间被偷了",
            "{place}一处出租屋人员进出频繁，形迹可疑，居民担心有违法行为",
            "U|{street}一家烧烤店门口{when}发生打架斗殴",
            "{place}路口的监控摄像头坏了很久，晚上那一片治安比较乱",
        ),
        "patrol": (
            "巡查发现{place}一处废弃房屋有人员临时居住，身份不明，形迹可疑，已报告派出所。",
        ),
    },
    "SOC-FRAUD": {
        "keywords": ("诈骗", "骗", "冒充", "非法集资"),
        "issues": (
            "{home}{resident}接到冒充公检法的电话，对方要求转账到“安全账户”",
            "{home}一位{age}岁的老人被人以“免费领保健品”为名骗走{yuan}元",
            "{place}有人在微信群里发“刷单返利”广告，已有{count}名居民上当受骗",
            "{home}{resident}网购退款时被冒充客服的人骗走{yuan}元",
            "{place}有人挨家挨户推销“高息理财”，疑似非法集资",
        ),
        "patrol": (
            "入户宣传反诈知识时，{home}{resident}反映{when}接到自称医保局的电话，"
            "称其医保卡被冻结需转账解冻，网格员已提醒其不要转账，防止被骗。",
        ),
    },
    "SOC-TRAFFIC": {
        "keywords": ("车", "交通", "斑马线", "驾驶"),
        "issues": (
            "U|{street}早晚高峰车辆乱停乱放，经常堵得走不动",
            "{place}路口有大货车经常超速行驶，已经出过{count}次事故",
            "R|{place}村路上经常有人无证驾驶三轮车拉人，存在安全隐患",
            "U|{street}学校路口没有斑马线和信号灯，孩子过马路很危险",
            "{place}附近有人酒后骑摩托车，晚上经常飙车",
            "U|{street}路边有一辆无牌照车辆停了{months}个月，疑似僵尸车",
        ),
    },
    "SOC-KEYPERSON": {
        "keywords": ("患者", "刑满释放", "社区矫正", "留守", "重点", "关爱", "帮扶"),
        "issues": (
            "{home}一名精神障碍患者近期停药，情绪不稳定，家属管不住，请求帮助",
            "{place}一名刑满释放人员回来后生活没有着落，需要帮扶安置",
            "{home}一名社区矫正对象近{days}天没有按时报到",
            "{home}一名留守儿童父母都在外地打工，跟{age}岁的奶奶生活，需要重点关爱",
        ),
        "patrol": (
            "走访{home}重点人员时，家属反映患者近期情绪激动、拒绝服药，"
            "网格员已联系精防医生，需进一步跟进。",
        ),
    },
    # ---- environment (环境) -----------------------------------------------------------------
    "ENV-GARBAGE": {
        "keywords": ("垃圾", "卫生", "厕所"),
        "issues": (
            "U|{home}楼下垃圾箱满了{days}天没人清运，味道很大",
            "R|{place}村头有人随意倾倒建筑垃圾和生活垃圾，快堆成小山了",
            "{place}的公共厕所很长时间没人打扫，卫生太差",
            "R|{place}路边沟里堆满了垃圾和杂草，下雨排水不畅",
            "U|{street}路边垃圾桶坏了，垃圾散落一地",
        ),
        "patrol": ("巡查发现{place}河道边有大量生活垃圾堆积，约{count}立方米，需组织清理。",),
    },
    "ENV-POLLUTION": {
        "keywords": ("污", "排放", "黑烟", "臭", "油烟", "刺鼻"),
        "issues": (
            "{company}夜里偷排污水，附近河水发黑发臭",
            "{place}一家小作坊烧废旧轮胎，黑烟滚滚，气味刺鼻",
            "R|{place}一处养殖场的粪污直接排到地里，臭味很大，苍蝇成群",
            "U|{street}有家饭店油烟直排，楼上住户窗户都不敢开",
            "{company}锅炉烟囱冒黑烟，附近居民晾的衣服都被熏黑了",
        ),
    },
    "ENV-NOISE": {
        "keywords": ("噪音", "噪声", "声音", "扰民", "喇叭"),
        "issues": (
            "U|{home}附近的工地{night}还在施工，噪音很大，根本睡不着",
            "U|{street}有商户用大喇叭循环播放促销广告，声音特别大",
            "{place}广场舞音响声音太大，每天晚上九点多才结束，严重扰民",
            "U|{home}楼上住户{night}还在大声唱歌、拖家具，噪音影响楼下休息",
            "{company}设备运转噪声很大，昼夜不停，附近居民睡不着觉",
            "R|{place}有人开车用高音喇叭收粮，{morning}就开始喊，扰民",
        ),
    },
    "ENV-STRAW": {
        "keywords": ("秸秆",),
        "issues": (
            "R|{place}地里有人焚烧秸秆，浓烟很大，附近公路上都看不清路",
            "R|{place}村民在自家院里烧秸秆和树叶，烟呛得邻居开不了窗",
            "{place}东侧田地里发现秸秆焚烧火点，火势有蔓延的趋势",
            "R|{place}秸秆垛堆在林地边上，离电线很近，存在火灾隐患",
        ),
        "patrol": (
            "巡查发现{place}农田内有{count}处秸秆焚烧火点，网格员已现场劝导并扑灭明火，"
            "余火需进一步处理。",
        ),
    },
    "ENV-FOREST": {
        "keywords": ("林", "树", "砍", "捕猎", "山火"),
        "issues": (
            "R|{place}后山有人私自砍伐树木，已经砍倒了{trees}棵",
            "R|{place}有人毁林开荒，把林地改种了玉米",
            "R|{place}有人在林区里私自建房",
            "{place}公路两侧的防护林被人剥了树皮，树都快死了",
            "R|{place}有人在山林里放火烧荒，容易引发山火",
            "R|{place}有人在山林里下铁丝套捕猎野生动物",
        ),
    },
    # ---- epidemic (疫情防控) ------------------------------------------------------------------
    "EPI-PREVENT": {
        "keywords": ("疫情", "核酸", "疫苗", "隔离", "口罩", "场所码", "发热"),
        "issues": (
            "{place}核酸检测点排队人太多，秩序混乱，没人维持",
            "{home}一名居家隔离人员擅自外出，邻居很担心",
            "{place}有商户不扫场所码、不查验健康码",
            "{home}一位{age}岁的老人行动不便，想预约上门接种疫苗",
            "{place}一家诊所接诊发热病人没有按规定报告",
            "{place}超市里人员聚集，很多人不戴口罩",
        ),
    },
    "EPI-REPORT": {
        "keywords": ("返乡", "报备", "外地", "外省"),
        "issues": (
            "{home}有一户人家{when}从外地回来{count}个人，不知道是否已经报备",
            "{home}{resident}咨询从外省返乡需要做几次核酸、是否需要居家监测",
            "{place}有外地务工人员返乡后没有按规定报备",
            "{home}{resident}家的孩子放假从外地大学回来，想知道怎么在网上报备",
        ),
        "hotline": ("你好，我儿子明天从外地回{village}，他需要提前报备不？报备都要啥材料？",),
    },
    # ---- rural (乡村振兴) --------------------------------------------------------------------
    "RUR-REVITAL": {
        "keywords": ("项目", "乡村振兴", "合作社", "美丽乡村", "庭院经济"),
        "issues": (
            "R|{village}的村内道路硬化项目开工{months}个月了还没完工，路挖得没法走",
            "R|{village}申报的庭院经济项目补贴一直没有兑现",
            "R|{village}合作社建的水稻加工厂房建好后一直闲置，项目没用起来",
            "R|{place}美丽乡村建设时拆了村民的院墙，说好的重建一直没动静",
            "R|{village}光伏项目的收益分配不公开，村民有意见",
            "{place}乡村振兴示范项目装的路灯、健身器材不到一年就坏了",
        ),
    },
    "RUR-POVERTY": {
        "keywords": ("返贫", "脱贫", "监测户", "帮扶", "助学"),
        "issues": (
            "R|{home}一户脱贫户今年家里人生病住院，花了{yuan}元，收入大减，有返贫风险",
            "R|{home}一户脱贫户种的{mu}亩地遭了灾，减产严重，生活困难",
            "R|{home}一户脱贫户反映帮扶干部很久没来过，有些政策不了解",
            "R|{home}一户监测户家中主要劳动力外出打工受伤，失去了收入来源",
            "{home}一户脱贫户的孩子考上大学，想了解有没有助学帮扶政策",
        ),
    },
    "RUR-FARM": {
        "keywords": ("种", "水稻", "稻", "化肥", "农", "玉米", "收割", "耕地"),
        "issues": (
            "R|{place}村民买的水稻种子出苗率很低，怀疑买到了假种子",
            "R|{place}水田的灌溉渠道堵塞，{mu}亩稻田放不进水",
            "R|{place}玉米地发生病虫害，叶子大面积发黄，需要农技人员指导",
            "R|{place}种植户买的化肥有效成分不足，用了没效果",
            "R|{place}村民想了解今年耕地地力保护补贴什么时候发放",
            "R|{place}农机合作社的收割机不够用，{mu}亩水稻等着收割",
            "{home}{resident}咨询农业保险理赔，去年受灾的{mu}亩地一直没赔",
        ),
    },
    "RUR-ANIMAL": {
        "keywords": ("猪", "牛", "鸡", "禽", "防疫", "狗", "检疫"),
        "issues": (
            "R|{place}一户养殖户家的猪{when}突然死了{count}头，不知道是什么病",
            "R|{place}有人把病死的鸡扔到了河沟里",
            "R|{place}养牛户想给{head}头牛打口蹄疫疫苗，村里的防疫员联系不上",
            "{place}有流浪狗咬伤了人，担心有狂犬病",
            "R|{place}有外地车辆来村里收购活禽，没有检疫证明",
        ),
    },
    # ---- safety (安全) ---------------------------------------------------------------------
    "SAF-FIRE": {
        "keywords": ("消防", "火", "充电"),
        "issues": (
            "U|{home}楼道里堆满了杂物和纸壳，消防通道被堵",
            "U|{home}有人把电动车推进楼道充电，电线从窗户拉下来",
            "{place}一家小饭店后厨液化气罐和杂物堆在一起，没有灭火器",
            "U|{village}一个小区的消防栓没有水，灭火器也过期了",
            "R|{place}村民的柴草垛堆在房前屋后，紧挨着电线，很容易着火",
            "{market}有商户私拉乱接电线，存在火灾隐患",
        ),
    },
    "SAF-PRODUCTION": {
        "keywords": ("安全", "隐患", "生产", "防护", "中毒", "受伤"),
        "issues": (
            "{company}工人高空作业不系安全带，也没有防护措施",
            "{company}车间设备老化，上个月有工人受伤，企业一直没有整改",
            "{place}一处小加工厂无证生产，厂房里堆放着易燃化学品",
            "{company}有限空间作业前不做通风检测，存在中毒风险",
            "{place}有人用塑料桶卖散装汽油，存在很大的安全隐患",
        ),
    },
    "SAF-FLOOD": {
        "keywords": ("河", "堤", "积水", "雨", "裂缝", "汛"),
        "issues": (
            "R|{place}河堤有一段出现裂缝和渗水，连续下雨担心决口",
            "R|{place}后山坡出现裂缝，下雨后有碎石滚落，下面住着{households}户人家",
            "{place}排水沟堵塞，一下大雨院子和路面就积水",
            "R|{place}有人在河道里挖沙，河堤都被挖空了",
            "{place}桥下涵洞被树枝和垃圾堵死了，汛期来了容易漫水",
            "U|{street}低洼路段一下雨就积水，积水能没过膝盖",
        ),
    },
    "SAF-FOOD": {
        "keywords": ("食品", "过期", "药", "熟食", "零食", "保健品", "腹泻"),
        "issues": (
            "{place}一家超市出售过期食品，买到的牛奶已经过期{days}天",
            "{place}有商贩在路边卖来源不明的熟食，没有任何卫生措施",
            "{school}附近小卖部卖“三无”零食，孩子们都买着吃",
            "U|{home}{resident}在{street}一家饭店吃饭后全家出现腹泻症状",
            "{place}有人上门推销保健品，说能治病，有老人买了{yuan}元的",
            "{place}一家药店没有执业药师在岗就卖处方药",
        ),
    },
    "SAF-BUILDING": {
        "keywords": ("危房", "施工", "墙", "工地", "倒塌", "作业", "开裂"),
        "issues": (
            "R|{home}一户老旧土坯房墙体开裂，屋里还住着{age}岁的老人",
            "U|{home}楼体外墙保温层脱落，下面是人行道，容易砸到人",
            "{place}一处工地塔吊作业时吊物从人行道上方经过，没有围挡",
            "{place}一处废弃厂房墙体倾斜，随时可能倒塌，经常有孩子去玩",
            "U|{street}一处施工工地的围挡被风刮倒了，没人处理",
            "{place}一处在建房屋没有任何安全防护，工人在三层楼顶作业",
        ),
    },
    # ---- urban management (城市管理) ----------------------------------------------------------
    "URB-ILLEGAL-BUILD": {
        "keywords": ("私搭", "违法建", "扩建", "私自建", "乱建", "搭建"),
        "issues": (
            "U|{home}一楼住户私自扩建院子，占用了公共绿地",
            "U|{home}顶楼住户在楼顶私搭彩钢房，影响楼体安全",
            "{place}有人在河道边私自建房",
            "R|{place}有村民在耕地上违法建房",
            "{place}有人在路边私搭乱建了一个铁皮棚子用来经营",
        ),
    },
    "URB-STALL": {
        "keywords": ("占道", "摊", "商贩", "摆"),
        "issues": (
            "U|{street}早市的摊位占满了马路，车辆和行人通行困难",
            "{market}周边商户把货物摆到人行道上经营",
            "U|{school}门口有流动商贩摆摊卖烤肠，堵塞通道",
            "U|{street}烧烤摊占道经营，晚上桌子都摆到马路上了",
            "{place}有卖菜的三轮车天天停在路口摆摊，影响交通",
        ),
    },
    "URB-FACILITY": {
        "keywords": ("路灯", "井盖", "下水", "雨水箅子", "公交站", "设施"),
        "issues": (
            "U|{street}有一段路灯坏了{lamps}盏，晚上黑漆漆的，行人走路不安全",
            "{place}的路灯白天亮着，晚上反倒不亮",
            "R|{place}的太阳能路灯坏了一大半，晚上出门看不见路",
            "U|{street}人行道上的雨水箅子丢了，露出一个大窟窿",
            "U|{home}楼下的下水道堵了，污水冒到了路面上",
            "U|{street}公交站的站亭顶棚破了，下雨天没法避雨",
            "U|{street}与{village}交界处的井盖缺失，只用一个破筐扣着",
        ),
        "hotline": (
            "U|你好，我反映个事儿，{street}那一段路灯坏了好些天了，一到晚上黑灯瞎火的，"
            "我们老年人晚上遛弯儿都不敢去。",
            "R|你好，我们{village}村道上的路灯坏了好几盏，晚上出门黑灯瞎火的，"
            "去年就坏了，一直没人修。",
        ),
        "patrol": ("U|巡查发现{street}有{lamps}盏路灯不亮，另有{count}处井盖松动，已拍照上传。",),
    },
    "URB-GREEN": {
        "keywords": ("树", "绿化", "绿地", "草"),
        "issues": (
            "U|{street}的行道树枯死了好几棵，一直没有补种",
            "U|{home}楼前的大树树枝伸到了窗户上，挡光，还刮电线",
            "{place}绿地里杂草长得很高，蚊虫很多",
            "{place}有人在公共绿地里种菜，把草坪都毁了",
            "{place}一棵大树被风刮得倾斜，随时可能倒下砸到行人或车辆",
        ),
    },
    "URB-PARKING": {
        "keywords": ("停车", "车位", "停", "地锁"),
        "issues": (
            "U|{home}楼下有车长期占着消防通道停车",
            "U|{village}的小区车位太少，晚上回来根本找不到停车的地方",
            "U|{street}路边停车收费标准不明确，收费员收费不给票",
            "{place}有人用地锁、石墩私占公共停车位",
            "{school}门口接送孩子的车辆乱停，早上堵得水泄不通",
            "{place}有大货车长期停在居民区路边，晚上启动时噪音很大",
        ),
    },
    # ---- other (其他) ----------------------------------------------------------------------
    "OTH-CONSULT": {
        "keywords": ("咨询", "想了解", "请问", "怎么办", "问一下"),
        "issues": (
            "{home}{resident}咨询在外地办理身份证需要哪些材料",
            "{home}{resident}想了解农村户口迁入城镇的政策",
            "{home}{resident}咨询新生儿落户和医保参保怎么办理",
            "{home}{resident}咨询退役军人优待证在哪里申领",
            "{home}{resident}想了解个人创业担保贷款的申请条件",
            "{home}{resident}咨询高龄老人补贴的领取条件",
        ),
        "hotline": (
            "你好，我想咨询一下，我是{village}的，我家孩子今年要上小学，"
            "户口不在这边，得准备啥手续啊？",
        ),
    },
    "OTH-OTHER": {
        "keywords": ("小广告", "流浪狗", "信号", "马蜂窝", "钱包", "建议", "公交"),
        "issues": (
            "{place}楼道和电线杆上贴满了小广告，清理了又贴",
            "{place}有几只流浪狗经常成群出没，晚上追着行人叫",
            "{place}手机信号很差，打电话经常断线",
            "{home}{resident}家屋檐下有个马蜂窝，有孩子被蜇了",
            "{place}有{resident}捡到一个钱包，里面有身份证，想交给有关部门",
            "{place}{resident}建议在附近增设一个公交站点",
        ),
    },
}
