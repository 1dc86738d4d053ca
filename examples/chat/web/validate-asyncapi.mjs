// Usage: node validate-asyncapi.mjs <asyncapi.json>
//
// Parses an AsyncAPI document (`python -m examples.chat.protocol asyncapi`) with @asyncapi/parser,
// the parser the AsyncAPI tools themselves use (with its default Spectral ruleset), prints every
// diagnostic as "<severity> <path> <message>", one a line, and exits 1 if any is an error or the
// parser gives no document, 0 otherwise (warnings, infos and hints are printed, never fatal).
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

// Spectral's DiagnosticSeverity: the lower, the worse.
const SEVERITY = ["error", "warning", "info", "hint"];
const ERROR = 0;

const [source] = process.argv.slice(2);
if (!source) {
  console.error("usage: node validate-asyncapi.mjs <asyncapi.json>");
  process.exit(2);
}
const text = await readFile(source, "utf8");
const { document, diagnostics } = await new Parser().parse(text, { source });
for (const { severity, path, message, code } of diagnostics) {
  const where = path.length ? path.map(String).join(".") : "(document)";
  console.log(`${SEVERITY[severity] ?? severity} ${where} ${message} [${code}]`);
}
const errors = diagnostics.filter((d) => d.severity === ERROR).length;
if (document === undefined || errors > 0) {
  console.log(`${source}: INVALID (${errors} error${errors === 1 ? "" : "s"}${document === undefined ? ", no document" : ""})`);
  process.exit(1);
}
console.log(`${source}: valid AsyncAPI ${document.version()} (${diagnostics.length} other diagnostic${diagnostics.length === 1 ? "" : "s"})`);
