// Real libraries that take a WebSocket implementation, unchanged: graphql-ws (its client with
// `webSocketImpl`, its server `useServer` on a WebSocketServer) and reconnecting-websocket (a
// WHATWG-style client that reconnects after the server drops it). Each case takes a pairing
// ({ client, server }, harness.mjs); the runners are libraries.test.mjs (Node) and
// compat.deno.test.ts (Deno). Both libraries' clients use only the WHATWG API, so Deno's own
// WebSocket can be the client too.
import assert from 'node:assert/strict';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createClient } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import ReconnectingWebSocket from 'reconnecting-websocket';
import { closeServer, listeningServer, until } from './harness.mjs';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      count: {
        type: GraphQLInt,
        args: { to: { type: GraphQLInt } },
        async *subscribe(_root, { to }) {
          for (let i = 1; i <= to; i++) {
            await new Promise((resolve) => setTimeout(resolve, 2));
            yield { count: i };
          }
        },
      },
    },
  }),
});

export async function graphqlWs({ client, server }) {
  const { wss, url } = await listeningServer(server, { path: '/graphql' });
  const serverCleanup = useServer({ schema }, wss);
  const gql = createClient({ url: `${url}/graphql`, webSocketImpl: client.WebSocket, retryAttempts: 0, lazy: true });
  try {
    const query = [];
    for await (const result of gql.iterate({ query: '{ hello }' })) query.push(result);
    assert.deepEqual(query, [{ data: { hello: 'world' } }]);

    const counts = [];
    for await (const result of gql.iterate({ query: 'subscription { count(to: 5) }' })) counts.push(result.data.count);
    assert.deepEqual(counts, [1, 2, 3, 4, 5], 'the subscription streamed every value, in order');

    // A query the schema refuses: graphql-ws throws its GraphQL errors (an array) from the iterator.
    await assert.rejects(
      async () => {
        for await (const result of gql.iterate({ query: '{ nope }' })) assert.fail(`unexpected result ${JSON.stringify(result)}`);
      },
      (err) => Array.isArray(err) && /nope/.test(err[0]?.message),
    );
  } finally {
    await gql.dispose();
    await serverCleanup.dispose();
    await closeServer(wss);
  }
}

export async function reconnecting({ client, server }) {
  const { wss, url } = await listeningServer(server);
  let connections = 0;
  wss.on('connection', (ws) => {
    connections += 1;
    ws.send(`hello #${connections}`);
    ws.on('message', (data) => {
      if (String(data) === 'drop me') ws.terminate(); // the server drops the client without a close frame
    });
  });
  const rws = new ReconnectingWebSocket(url, [], {
    WebSocket: client.WebSocket,
    minReconnectionDelay: 10,
    maxReconnectionDelay: 50,
    connectionTimeout: 2000,
    maxRetries: 5,
  });
  const messages = [];
  const closes = [];
  rws.addEventListener('message', (event) => messages.push(String(event.data)));
  rws.addEventListener('close', (event) => closes.push(event.code));
  try {
    await until(() => messages.length === 1, 'the first greeting');
    rws.send('drop me');
    await until(() => messages.length === 2, 'the greeting after reconnecting', 3000);
    assert.deepEqual(messages, ['hello #1', 'hello #2']);
    // (Its code is reconnecting-websocket's to choose: 1006 from a ws-style client; after a
    // native WebSocket's 'error' it closes with 1000 itself.)
    assert.ok(closes.length >= 1, 'the drop was seen as a close');
    assert.equal(rws.readyState, rws.OPEN);
    rws.send('still here');
    rws.close(1000, 'done');
    await until(() => rws.readyState === rws.CLOSED, 'the final close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(connections, 2, 'no reconnection after close()');
  } finally {
    rws.close();
    await closeServer(wss);
  }
}

export const libraryCases = [
  { name: 'graphql-ws: createClient({ webSocketImpl }) and useServer: a query and a subscription of five values', run: graphqlWs },
  { name: 'reconnecting-websocket: reconnects after the server drops it, stops after close()', run: reconnecting },
];
