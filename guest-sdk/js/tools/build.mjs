#!/usr/bin/env node
// Builds a JavaScript or TypeScript function into a WebAssembly component:
// esbuild bundles it (and its npm dependencies, TypeScript compiled) with the
// lamina-sdk glue for its world, and ComponentizeJS (SpiderMonkey) turns the
// bundle into a component.
//
//   node build.mjs SRC -o OUT.wasm [--handler NAME]
//
// SRC is a .js/.mjs/.ts/.mts file or a directory (its package.json "main",
// else index.ts, index.js, index.mjs, handler.ts, handler.js). A module whose
// handler is made by withDurableExecution targets lamina:durable/durable-function,
// any other lamina:function/function.
//
// Environment: LAMINA_JS_SDK_DIR (the lamina-sdk package), LAMINA_JS_WIT_DIR
// (the dir holding function/ and durable/), LAMINA_JS_WORK (toolchain and
// staging; default: target/js-guests in the repository), LAMINA_JS_PROG
// (the name in messages). The toolchain (this directory's package.json and
// package-lock.json: pinned esbuild and ComponentizeJS) is installed there with
// `npm ci` on first use.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../../..");
const PROG = process.env.LAMINA_JS_PROG || "build-js-guests";
const SDK = path.resolve(process.env.LAMINA_JS_SDK_DIR || path.join(HERE, ".."));
const WIT = path.resolve(process.env.LAMINA_JS_WIT_DIR || path.join(REPO, "wit"));
const WORK = path.resolve(process.env.LAMINA_JS_WORK || path.join(process.env.LAMINA_TARGET_DIR || path.join(REPO, "target"), "js-guests"));

function die(message) {
  console.error(`${PROG}: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const out = { handler: "handler" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-o" || a === "--output") out.output = argv[++i];
    else if (a === "--handler") out.handler = argv[++i];
    else if (!out.source) out.source = a;
    else die(`unexpected argument ${a}`);
  }
  if (!out.source) die("usage: build.mjs SRC [-o OUT.wasm] [--handler NAME]");
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(out.handler)) die(`--handler ${JSON.stringify(out.handler)} is not a JavaScript identifier`);
  return out;
}

/** Installs the pinned toolchain into WORK/toolchain (once per lock file). */
function ensureToolchain() {
  const dir = path.join(WORK, "toolchain");
  const lock = fs.readFileSync(path.join(HERE, "package-lock.json"));
  const pkg = fs.readFileSync(path.join(HERE, "package.json"));
  const digest = createHash("sha256").update(pkg).update(lock).digest("hex").slice(0, 16);
  const marker = path.join(dir, ".installed");
  if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === digest) return dir;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), pkg);
  fs.writeFileSync(path.join(dir, "package-lock.json"), lock);
  const versions = JSON.parse(pkg).dependencies;
  console.error(`${PROG}: installing ${Object.entries(versions).map(([n, v]) => `${n}@${v}`).join(", ")} from npm into ${dir} (first use only; about a minute)`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["ci", "--no-audit", "--no-fund", "--omit=dev"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
  if (r.error) die(`cannot run npm (${r.error.message}): lamina build needs Node.js >= 18 with npm`);
  if (r.status !== 0) die("npm ci failed (the reason is printed above)");
  fs.writeFileSync(marker, digest);
  return dir;
}

function entryOf(source) {
  const abs = path.resolve(source);
  if (!fs.existsSync(abs)) die(`${source}: no such file or directory`);
  if (fs.statSync(abs).isFile()) return { dir: path.dirname(abs), entry: abs };
  const pkgPath = path.join(abs, "package.json");
  if (fs.existsSync(pkgPath)) {
    const main = JSON.parse(fs.readFileSync(pkgPath, "utf8")).main;
    if (main && fs.existsSync(path.join(abs, main))) return { dir: abs, entry: path.join(abs, main) };
  }
  for (const name of ["index.ts", "index.mts", "index.js", "index.mjs", "handler.ts", "handler.js"]) {
    if (fs.existsSync(path.join(abs, name))) return { dir: abs, entry: path.join(abs, name) };
  }
  die(`${source}: no entry module (package.json "main", index.ts, index.js, index.mjs, handler.ts or handler.js)`);
}

/** Installs a directory's npm dependencies when it has a package.json with some and no node_modules. */
function ensureDeps(dir) {
  const pkgPath = path.join(dir, "package.json");
  if (!fs.existsSync(pkgPath)) return;
  const pkg = JSON.parse(fs.readFileSync(pkgPath, "utf8"));
  const deps = Object.keys(pkg.dependencies || {}).filter((d) => d !== "lamina-sdk");
  if (deps.length === 0 || fs.existsSync(path.join(dir, "node_modules"))) return;
  console.error(`${PROG}: installing the dependencies of ${pkgPath} (npm install --omit=dev)`);
  const r = spawnSync("npm", ["install", "--omit=dev", "--no-audit", "--no-fund"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) die(`npm install in ${dir} failed`);
}

const sdkFile = (name) => path.join(SDK, "src", name).split(path.sep).join("/");

async function bundle(esbuild, entry, handlerName, world, outfile) {
  const glue = world === "durable"
    ? `import { durableExport } from ${JSON.stringify(sdkFile("component-durable.js"))};\nexport const handler = durableExport(__user);\n`
    : `import { handlerExport } from ${JSON.stringify(sdkFile("component-function.js"))};\nexport const handler = handlerExport(__user);\n`;
  const contents = `import { ${handlerName} as __user } from ${JSON.stringify(entry.split(path.sep).join("/"))};\n`
    + `if (typeof __user !== "function") throw new Error(${JSON.stringify(`${path.basename(entry)} does not export a function named ${handlerName}`)});\n`
    + glue;
  return esbuild.build({
    stdin: { contents, resolveDir: path.dirname(entry), sourcefile: "lamina-entry.js", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["import", "default"],
    external: ["lamina:*", "wasi:*"],
    alias: { "lamina-sdk": SDK },
    outfile,
    metafile: true,
    logLevel: "silent",
    write: Boolean(outfile),
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { dir, entry } = entryOf(args.source);
  const output = path.resolve(args.output || `${path.basename(dir === path.dirname(path.resolve(args.source)) ? entry.replace(/\.[mc]?[jt]s$/, "") : dir).replace(/-/g, "_")}.wasm`);
  const toolchain = ensureToolchain();
  const req = (name) => import(pathToFileURL(path.join(toolchain, "node_modules", name, name === "esbuild" ? "lib/main.js" : "src/componentize.js")).href);
  const esbuild = (await req("esbuild")).default || (await req("esbuild"));
  ensureDeps(dir);

  // Which world: does the user's code (not the SDK, not node_modules) call withDurableExecution?
  let probe;
  try {
    probe = await bundle(esbuild, entry, args.handler, "function", undefined);
  } catch (err) {
    const errors = (err.errors || []).map((e) => `${e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : ""}${e.text}`);
    die(`bundling ${path.relative(process.cwd(), entry) || entry} failed:\n  ${errors.join("\n  ") || err.message}`);
  }
  const userFiles = Object.keys(probe.metafile.inputs)
    .map((f) => path.resolve(f))
    .filter((f) => !f.startsWith(SDK + path.sep) && !f.split(path.sep).includes("node_modules") && fs.existsSync(f));
  const durable = userFiles.some((f) => /\bwithDurableExecution\s*(<[^>]*>)?\s*\(/.test(fs.readFileSync(f, "utf8")));
  const world = durable ? "durable" : "function";

  const stage = path.join(WORK, "stage", createHash("sha256").update(output).digest("hex").slice(0, 12));
  fs.mkdirSync(stage, { recursive: true });
  const bundled = path.join(stage, "bundle.js");
  await bundle(esbuild, entry, args.handler, world, bundled);
  const code = fs.readFileSync(bundled);
  const witDir = path.join(WIT, world);
  const witText = fs.readdirSync(witDir).sort().map((f) => fs.readFileSync(path.join(witDir, f), "utf8")).join("\n");
  // esbuild marks each module with a `// path` comment; paths (the SDK's cache
  // directory among them) are not part of what the code does.
  const normalized = code.toString("utf8").replace(/^\/\/ .*$/gm, "");
  const digest = createHash("sha256").update(normalized).update(witText).update("wasi:cli/exit@0.2.12").update(fs.readFileSync(path.join(HERE, "package-lock.json"))).digest("hex");
  const inputsFile = `${output}.inputs`;
  if (fs.existsSync(output) && fs.existsSync(inputsFile) && fs.readFileSync(inputsFile, "utf8").trim() === digest) {
    console.error(`${PROG}: ${path.relative(process.cwd(), output) || output} is up to date`);
    return;
  }
  // Components are kept by digest too, so the same code built to another path is a copy.
  const cached = path.join(WORK, "components", `${digest.slice(0, 32)}.wasm`);
  if (fs.existsSync(cached)) {
    fs.mkdirSync(path.dirname(output), { recursive: true });
    fs.copyFileSync(cached, output);
    fs.writeFileSync(inputsFile, `${digest}\n`);
    console.error(`${PROG}: ${path.relative(process.cwd(), output) || output}: same code as ${cached}, copied`);
    return;
  }
  const worldName = durable ? "lamina:durable/durable-function" : "lamina:function/function";
  console.error(`${PROG}: ${path.relative(process.cwd(), entry) || entry} (${worldName}) -> ${output}`);
  const { componentize } = await req("@bytecodealliance/componentize-js");
  const started = Date.now();
  // ComponentizeJS reads the WIT through a WASI sandbox that sees the current
  // directory only: stage the world's WIT beside the bundle and build from there.
  // The world is Lamina's plus `wasi:cli/exit` (process.exit), at the WASI
  // version the pinned ComponentizeJS's engine imports.
  const stagedWit = path.join(stage, "wit");
  fs.rmSync(stagedWit, { recursive: true, force: true });
  fs.cpSync(witDir, path.join(stagedWit, "deps", world), { recursive: true });
  fs.mkdirSync(path.join(stagedWit, "deps", "cli"), { recursive: true });
  fs.writeFileSync(path.join(stagedWit, "deps", "cli", "exit.wit"),
    "package wasi:cli@0.2.12;\n\ninterface exit {\n  exit: func(status: result);\n}\n");
  const baseWorld = durable ? "lamina:durable/durable-function@0.1.0" : "lamina:function/function@0.1.0";
  fs.writeFileSync(path.join(stagedWit, "world.wit"),
    `package lamina:js-${world}@0.1.0;\n\nworld component {\n  include ${baseWorld};\n  import wasi:cli/exit@0.2.12;\n}\n`);
  process.chdir(stage);
  let component;
  try {
    ({ component } = await componentize({
      sourcePath: "bundle.js",
      witPath: "wit",
      worldName: `lamina:js-${world}/component`,
      disableFeatures: ["fetch-event"],
    }));
  } catch (err) {
    die(`componentize-js failed: ${err.message || err}`);
  }
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, component);
  fs.writeFileSync(inputsFile, `${digest}\n`);
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.writeFileSync(`${cached}.tmp${process.pid}`, component);
  fs.renameSync(`${cached}.tmp${process.pid}`, cached);
  console.error(`${PROG}: built ${output} (${(component.length / 1048576).toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((err) => die(err && err.stack ? err.stack : String(err)));
