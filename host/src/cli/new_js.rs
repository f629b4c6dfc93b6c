//! `lamina new --lang js|ts`: the files of a JavaScript or TypeScript project.

use super::new::Template;

const JS_HANDLER: &str = r#"// A Lambda-style handler on Lamina.
//
//   {"name": "Ada"}  ->  {"message": "Hello, Ada!", "functionName": "..."}
//   {}               ->  fails with TypeError (a Lambda function error)
export const handler = async (event, context) => {
  const name = event && event.name;
  if (!name) throw new TypeError("name is required");
  return { message: `Hello, ${name}!`, functionName: context.functionName, requestId: context.awsRequestId };
};
"#;

const JS_DURABLE: &str = r#"// A durable function on Lamina (the AWS Durable Execution SDK for JavaScript's API).
//
// Each step's result is journaled: after the wait the function is replayed
// and the first step does not run again. No instance is held while it waits.
//
//   {"name": "Ada"}  ->  {"message": "Hello, Ada!", "shouted": "HELLO, ADA!", "steps": 2}
import { withDurableExecution } from "lamina-sdk";

export const handler = withDurableExecution(async (event, context) => {
  const name = (event && event.name) || "world";
  const greeting = await context.step("greet", async () => `Hello, ${name}!`);
  await context.wait("pause", { seconds: 1 });
  const shouted = await context.step("shout", async () => greeting.toUpperCase());
  return { message: greeting, shouted, steps: 2 };
});
"#;

const TS_HANDLER: &str = r#"// A Lambda-style handler on Lamina, in TypeScript.
//
//   {"name": "Ada"}  ->  {"message": "Hello, Ada!", "functionName": "..."}
//   {}               ->  fails with TypeError (a Lambda function error)
interface Event {
  name?: string;
}

interface Context {
  functionName: string;
  awsRequestId: string;
}

export const handler = async (event: Event, context: Context) => {
  if (!event.name) throw new TypeError("name is required");
  return { message: `Hello, ${event.name}!`, functionName: context.functionName, requestId: context.awsRequestId };
};
"#;

const TS_DURABLE: &str = r#"// A durable function on Lamina (the AWS Durable Execution SDK for JavaScript's API), in TypeScript.
//
// Each step's result is journaled: after the wait the function is replayed
// and the first step does not run again. No instance is held while it waits.
//
//   {"name": "Ada"}  ->  {"message": "Hello, Ada!", "shouted": "HELLO, ADA!", "steps": 2}
import { withDurableExecution, type DurableContext } from "lamina-sdk";

interface Event {
  name?: string;
}

export const handler = withDurableExecution(async (event: Event, context: DurableContext) => {
  const name = event.name ?? "world";
  const greeting = await context.step("greet", async () => `Hello, ${name}!`);
  await context.wait("pause", { seconds: 1 });
  const shouted = await context.step("shout", async () => greeting.toUpperCase());
  return { message: greeting, shouted, steps: 2 };
});
"#;

/// The entry module's file name and contents.
pub fn module(typescript: bool, template: Template) -> (&'static str, &'static str) {
    match (typescript, template) {
        (false, Template::Handler | Template::Http) => ("index.js", JS_HANDLER),
        (false, Template::Durable) => ("index.js", JS_DURABLE),
        (true, Template::Handler | Template::Http) => ("index.ts", TS_HANDLER),
        (true, Template::Durable) => ("index.ts", TS_DURABLE),
    }
}

/// The project's package.json.
pub fn package_json(name: &str, entry: &str) -> String {
    format!(
        "{{\n  \"name\": \"{name}\",\n  \"version\": \"0.1.0\",\n  \"private\": true,\n  \
         \"type\": \"module\",\n  \"main\": \"{entry}\",\n  \"dependencies\": {{}}\n}}\n"
    )
}

/// The project's README.md.
pub fn readme(name: &str, typescript: bool, template: Template) -> String {
    let invoke = match template {
        Template::Handler | Template::Http => {
            format!("    lamina invoke {name} --payload '{{\"name\":\"Ada\"}}'\n")
        }
        Template::Durable => format!(
            "    lamina invoke {name} --invocation-type Event --payload '{{\"name\":\"Ada\"}}'\n    \
             lamina executions list {name}\n"
        ),
    };
    format!(
        "# {name}\n\n\
         A {lang} function for Lamina ({kind}).\n\n\
         Build it into a WebAssembly component and serve it (the first build installs\n\
         esbuild and ComponentizeJS from npm into Lamina's cache, about a minute; it\n\
         needs Node.js >= 18 with npm):\n\n    \
         lamina build . -o {name}.wasm\n    \
         lamina serve            # serves ./lamina.toml on http://127.0.0.1:8080\n\n\
         Then, from another shell:\n\n{invoke}\n\
         npm dependencies listed in `package.json` are bundled into the component\n\
         (`lamina-sdk` is provided by `lamina build`).\n",
        lang = if typescript {
            "TypeScript"
        } else {
            "JavaScript"
        },
        kind = match template {
            Template::Handler | Template::Http => "a Lambda-style handler",
            Template::Durable => "a durable function",
        }
    )
}
