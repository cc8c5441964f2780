// Runs the graphql-http audit suite against a GraphQL-over-HTTP endpoint and prints
// one JSON line: every audit's id, name, status (ok | warn | error) and reason.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
console.log(JSON.stringify(results.map((r) => ({
  id: r.id, name: r.name, status: r.status, reason: r.reason ?? null,
}))));
