// Usage: node schema-to-ts.mjs <schema.json> <out.d.ts>
//
// Writes the TypeScript declarations of every definition under "$defs" of a JSON Schema document
// (`python -m examples.chat.protocol schema`): one exported type per definition, named by its
// "title". The output depends only on the schema and the locked json-schema-to-typescript (and
// its prettier), so the committed ../static/protocol.d.ts can be compared with a fresh one.
import { readFile, writeFile } from "node:fs/promises";
import { compile } from "json-schema-to-typescript";

const BANNER = "// Generated from examples/chat/protocol.py: do not edit.";
// The name json-schema-to-typescript gives the document's own type, which is then dropped (below).
const ROOT = "ProtocolDocument";

const [source, target] = process.argv.slice(2);
if (!source || !target) {
  console.error("usage: node schema-to-ts.mjs <schema.json> <out.d.ts>");
  process.exit(2);
}
const schema = JSON.parse(await readFile(source, "utf8"));
if (typeof schema !== "object" || schema === null || typeof schema.$defs !== "object") {
  console.error(`${source}: not a JSON Schema document with "$defs"`);
  process.exit(1);
}
const untitled = Object.entries(schema.$defs).filter(([, def]) => typeof def.title !== "string").map(([name]) => name);
if (untitled.length) {
  // Without a title a type would be named after its key, silently: say so instead.
  console.error(`${source}: definitions without a "title": ${untitled.join(", ")}`);
  process.exit(1);
}
// Only the definitions: the document's own title, anyOf and so on would add a type of its own.
const root = { $defs: schema.$defs };

let ts = await compile(root, ROOT, {
  bannerComment: BANNER,
  // Every definition, whether or not the (empty) root refers to it.
  unreachableDefinitions: true,
  // A type lists the fields the schema names and no others (no `[k: string]: unknown`): reading
  // a field that is not there, or a renamed one, is a type error in the page.
  additionalProperties: false,
  // Only "#/$defs/..." references: nothing is read from the disk or the network.
  $refOptions: { resolve: { external: false } },
  // One fixed style: no .prettierrc is consulted, the output depends on nothing else.
  format: true,
  style: { bracketSpacing: false, printWidth: 100, semi: true, singleQuote: false, tabWidth: 2, trailingComma: "all", useTabs: false },
});

// The generator declares the root too (`interface ProtocolDocument {[k: string]: unknown}`) and
// notes under every definition that the root refers to it: drop both, and fail loudly if a new
// version of the generator writes them differently, rather than leave them in.
const rootDeclaration = `\nexport interface ${ROOT} {\n  [k: string]: unknown;\n}\n`;
if (!ts.includes(rootDeclaration)) {
  console.error(`json-schema-to-typescript no longer declares the root as expected:\n${ts}`);
  process.exit(1);
}
ts = ts.replace(rootDeclaration, "\n");
const note = (name) => `This interface was referenced by \`${ROOT}\`'s JSON-Schema\n * via the \`definition\` "${name}".`;
for (const name of Object.keys(schema.$defs)) {
  const alone = `/**\n * ${note(name)}\n */\n`;
  const after = `\n *\n * ${note(name)}\n */\n`;
  if (ts.includes(alone)) ts = ts.replace(alone, "");
  else if (ts.includes(after)) ts = ts.replace(after, "\n */\n");
  else {
    console.error(`json-schema-to-typescript no longer notes the definition "${name}" as expected:\n${ts}`);
    process.exit(1);
  }
}
ts = ts.replace(/\n{3,}/g, "\n\n");
await writeFile(target, ts);
