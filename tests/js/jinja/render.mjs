// Oracle for Quanta.Core.Templates: renders chat templates with @huggingface/jinja.
// stdin: {"template": "...", "context": {...}, "now": <epoch ms, optional>}
//    or: {"cases": [{"template", "context", "now"?}, ...]}  (batch)
// stdout: {"output": "..."} or {"error": "..."}; for a batch, a JSON array of those.
// strftime_now reads `new Date()`; with "now" given, Date() is pinned to it (run with TZ=UTC).
import { Template } from "@huggingface/jinja";

const RealDate = Date;
let pinned = null;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0 && pinned !== null) super(pinned);
    else super(...args);
  }
};

function renderOne({ template, context, now }) {
  pinned = typeof now === "number" ? now : null;
  try {
    return { output: new Template(template).render(context ?? {}) };
  } catch (e) {
    return { error: String(e && e.message !== undefined ? e.message : e) };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const result = Array.isArray(request.cases) ? request.cases.map(renderOne) : renderOne(request);
process.stdout.write(JSON.stringify(result));
