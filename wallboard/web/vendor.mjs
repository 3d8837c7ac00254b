// Copies the wallboard's third-party assets from node_modules into vendor/ (git-ignored),
// so the page never loads anything from a CDN: a hub's screen may have no internet.
// Fonts: only the woff2 files each copied stylesheet references (unicode-range subsets).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";

const out = "vendor";
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "fonts", "files"), { recursive: true });

cpSync("node_modules/echarts/dist/echarts.min.js", join(out, "echarts.min.js"));

const sheets = [
  "@fontsource/noto-sans-sc/400.css",
  "@fontsource/noto-sans-sc/700.css",
  "@fontsource/jetbrains-mono/latin-400.css",
  "@fontsource/jetbrains-mono/latin-700.css",
];
let css = "";
let files = 0;
for (const sheet of sheets) {
  const path = join("node_modules", sheet);
  // Keep woff2 only (every browser a command hall runs has it) and copy what is referenced.
  const text = readFileSync(path, "utf8").replace(/, url\([^)]*\.woff\) format\('woff'\)/g, "");
  for (const m of text.matchAll(/url\(\.\/files\/([^)]+\.woff2)\)/g)) {
    const src = join(dirname(path), "files", m[1]);
    if (existsSync(src)) {
      cpSync(src, join(out, "fonts", "files", m[1]));
      files += 1;
    }
  }
  css += `/* ${sheet} */\n${text}\n`;
}
writeFileSync(join(out, "fonts", "fonts.css"), css);
writeFileSync(join(out, ".stamp"), new Date().toISOString() + "\n");
console.log(`vendored echarts and ${files} font files into ${out}/`);
