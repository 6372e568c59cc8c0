// The TypeScript SDK's own client, as MCP Inspector and Claude Code use it: connect over Streamable HTTP,
// list the tools, call one. Prints one JSON line; exits 1 (with the error) when any step fails.
// Usage: node corpus_client.mjs SDK_DIR URL TOOL ARGS_JSON
import { pathToFileURL } from 'node:url';

const [sdk, url, tool, args] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(`${sdk}/dist/esm/${path}`).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');

const client = new Client({ name: 'mcpgen-corpus', version: '1' });
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const listed = await client.listTools();
  const called = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  console.log(JSON.stringify({ tools: listed.tools.length, isError: Boolean(called.isError) }));
  await client.close();
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.stack ?? error) }));
  process.exit(1);
}
