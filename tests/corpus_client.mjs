// The TypeScript SDK's own client, as MCP Inspector and Claude Code use it: connect over Streamable HTTP,
// list the tools, call one. When the server asks for OAuth, the client registers (DCR), sends the user to
// the authorize URL (here: an auto-approving server, so one GET brings the code back) and exchanges it;
// then it connects once more with an expired access token, as it will an hour later.
// Prints one JSON line, with the raw token response when there was one; exits 1 (with the error) when any
// step fails.
// Usage: node corpus_client.mjs SDK_DIR URL TOOL ARGS_JSON
import { pathToFileURL } from 'node:url';

const [sdk, url, tool, args] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(`${sdk}/dist/esm/${path}`).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
const { UnauthorizedError } = await load('client/auth.js');

const REDIRECT = 'http://localhost:33419/callback';
let token = null;  // the token endpoint's answer, as sent
let code = null;

// Records what the token endpoint answered, before the SDK's parser normalizes it.
const recording = async (input, init) => {
  const response = await fetch(input, init);
  if (String(init?.body ?? '').includes('grant_type=')) token = await response.clone().json().catch(() => null);
  return response;
};

const memory = {};
const authProvider = {
  get redirectUrl() { return REDIRECT; },
  get clientMetadata() {
    return {
      client_name: 'mcpgen-corpus',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  },
  clientInformation: () => memory.client,
  saveClientInformation: (client) => { memory.client = client; },
  tokens: () => memory.tokens,
  saveTokens: (tokens) => { memory.tokens = tokens; },
  saveCodeVerifier: (verifier) => { memory.verifier = verifier; },
  codeVerifier: () => memory.verifier,
  async redirectToAuthorization(authorizeUrl) {
    const answer = await fetch(authorizeUrl, { redirect: 'manual' });
    const location = answer.headers.get('location') ?? '';
    if (!location.startsWith(REDIRECT)) throw new Error(`authorize: ${answer.status} ${location}`);
    code = new URL(location).searchParams.get('code');
  },
};

const transport = () => new StreamableHTTPClientTransport(new URL(url), { authProvider, fetch: recording });

// One session: connect (signing in first when the server answers 401), list the tools, call one.
const session = async () => {
  let client = new Client({ name: 'mcpgen-corpus', version: '1' });
  try {
    await client.connect(transport());
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !code) throw error;
    const signIn = transport();
    await signIn.finishAuth(code);
    client = new Client({ name: 'mcpgen-corpus', version: '1' });
    await client.connect(signIn);
  }
  const listed = await client.listTools();
  const called = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  await client.close();
  return { tools: listed.tools.length, isError: Boolean(called.isError) };
};

try {
  const first = await session();
  if (memory.tokens) {
    // An hour later the access token has expired: the client must get a 401 and sign in (or refresh) again.
    memory.tokens = { ...memory.tokens, access_token: 'mcpgen-corpus-expired' };
    code = null;
    await session().catch((error) => {
      throw new Error(`once the access token expired: ${error?.stack ?? error}`);
    });
  }
  console.log(JSON.stringify({ ...first, token }));
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.stack ?? error), token }));
  process.exit(1);
}
