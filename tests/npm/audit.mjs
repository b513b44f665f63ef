// The GraphQL over HTTP server audit (graphql-http's serverAudits) against one URL: prints
// one JSON line per audit ({id, name, status, reason}), for tests/test_graphql_over_http.py.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  console.log(JSON.stringify({
    id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null,
  }));
}
