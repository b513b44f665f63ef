// Apollo Federation against a running Kilas: its subgraph SDL (from `_service { sdl }`) is
// composed with a second subgraph, a provincial budget system ("anggaran") that extends
// Programme and Opd, with @apollo/composition; then queries run through @apollo/gateway
// against both. Prints one JSON line per step, for tests/test_federation.py.
//
//   node federation.mjs '{"kilas": "http://…/graphql", "programmeId": "…", "opdId": "…",
//                         "queries": [{"name": …, "query": …, "variables": {…}}]}'
import http from 'node:http';
import { graphql, parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';

const input = JSON.parse(process.argv[2]);
const say = (value) => console.log(JSON.stringify(value));

const ANGGARAN = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type Programme @key(fields: "id") {
    id: ID!
    realisations: [Realisation!]!
  }
  type Opd @key(fields: "id") {
    id: ID!
    procurementPackages: Int!
  }
  type Realisation { month: String! amountIdr: String! }
  type Package { code: String! title: String! opd: Opd! }
  type Query { packages: [Package!]! }
`;
const REALISATIONS = {
  [input.programmeId]: [
    { month: '2026-10', amountIdr: '1250000000' },
    { month: '2026-11', amountIdr: '2100000000' },
  ],
};
const PACKAGES = [
  { code: 'PKT-2026-001', title: 'Rehabilitasi ruas Slawi-Brebes', opd: { id: input.opdId } },
  { code: 'PKT-2026-002', title: 'Penambalan lubang ruas Kudus-Pati', opd: { id: input.opdId } },
];
const anggaran = buildSubgraphSchema({
  typeDefs: parse(ANGGARAN),
  resolvers: {
    Query: { packages: () => PACKAGES },
    Programme: {
      __resolveReference: (ref) => ({ id: ref.id, realisations: REALISATIONS[ref.id] ?? [] }),
    },
    Opd: {
      __resolveReference: (ref) => ({ id: ref.id }),
      procurementPackages: (opd) => PACKAGES.filter((p) => p.opd.id === opd.id).length,
    },
  },
});

// The second subgraph on 127.0.0.1, answering GraphQL POSTs.
const server = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { query, variables } = JSON.parse(body);
  const result = await graphql({ schema: anggaran, source: query, variableValues: variables });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const anggaranUrl = `http://127.0.0.1:${server.address().port}/graphql`;

try {
  const sdlAnswer = await fetch(input.kilas, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const sdl = (await sdlAnswer.json()).data._service.sdl;
  const composed = composeServices([
    { name: 'kilas', typeDefs: parse(sdl), url: input.kilas },
    { name: 'anggaran', typeDefs: parse(ANGGARAN), url: anggaranUrl },
  ]);
  const errors = (composed.errors ?? []).map((e) => e.message);
  say({ step: 'composition', errors, hints: (composed.hints ?? []).length });
  if (errors.length === 0) {
    const gateway = new ApolloGateway({ supergraphSdl: composed.supergraphSdl });
    const apollo = new ApolloServer({ gateway });
    await apollo.start();
    for (const { name, query, variables } of input.queries) {
      const answer = await apollo.executeOperation({ query, variables });
      say({ step: name, result: answer.body.singleResult });
    }
    await apollo.stop();
  }
} finally {
  server.close();
}
