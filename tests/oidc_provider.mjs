// A real OpenID Connect provider (the certified npm package `oidc-provider`) for the tests.
//
// Usage: node oidc_provider.mjs CONFIG.json. The tests write the config: port, issuer, scopes,
// the signing keys (so they can also forge tokens), and pre-registered clients. It is run from
// the folder npm installed oidc-provider into, so the bare import below resolves there.
//
// What it offers the tests:
// - open dynamic client registration (RFC 7591), PKCE, refresh tokens, client credentials;
// - resource indicators (RFC 8707): an access token asked for with `resource=R` is a JWT
//   (RFC 9068) whose `aud` is R and whose `scope` holds the granted scopes;
// - sign-in and consent over plain HTTP: GET /interaction/UID shows a form, a POST to the same
//   URL with `login=NAME&decision=allow` (or `deny`) answers it; each step redirects onwards;
// - POST /_harness/jwks with body `down` or `up`: the key set endpoint answers 503 while down;
// - POST /_harness/token with `down` or `up`: the token endpoint answers 503 while down;
// - POST /_harness/ttl with a number of seconds: the lifetime of access tokens issued from then on;
// - GET /user with a Bearer access token: the signed-in account as GitHub's REST API answers it
//   (`id`, `login`, `name`, `email`), 401 for an unknown or expired token; with the scope
//   `read:user` this stands in for GitHub. Google's userinfo is the standard /me (with
//   `email_verified`);
// - scopes `api://APP/x` without a `resource` (Microsoft Entra's v2 style): a JWT access token for
//   the API `api://APP` whose `scope` holds `api://APP/x`.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let jwksDown = false;
let tokenDown = false;
let accessTokenTTL = config.accessTokenTTL ?? 3600;

const provider = new Provider(config.issuer, {
  clients: config.clients ?? [],
  jwks: config.jwks,
  cookies: { keys: [config.cookieKey] },
  scopes: ['openid', 'offline_access', 'read:user', ...config.scopes],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.test`, email_verified: true, name: id }),
  }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Like Microsoft Entra's v2 endpoints: scopes `api://APP/x` without `resource` ask for API `api://APP`.
      defaultResource: async (ctx, _client, oneOf) => {
        const api = (ctx.oidc.params?.scope ?? '').split(' ').find((s) => s.startsWith('api://'));
        return oneOf ?? (api ? api.slice(0, api.lastIndexOf('/')) : undefined);
      },
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => ({
        audience: resource,
        // An `api://` API's scopes carry its name, as Entra's do on the wire.
        scope: config.scopes.map((s) => (resource.startsWith('api://') ? `${resource}/${s}` : s)).join(' '),
        accessTokenFormat: 'jwt',
        accessTokenTTL,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // Refresh tokens for every client allowed the grant, without demanding offline_access.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Read at each issue, so POST /_harness/ttl takes effect at once.
  ttl: {
    AccessToken: () => accessTokenTTL,
    ClientCredentials: () => accessTokenTTL,
    RefreshToken: 86400,
    Interaction: 600,
    Session: 3600,
    Grant: 86400,
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

async function readForm(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function finish(ctx, form) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  if (form.get('decision') === 'deny') {
    return { error: 'access_denied', error_description: 'the user denied the request' };
  }
  if (prompt.name === 'login') {
    return { login: { accountId: form.get('login') || 'tester' } };
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/_harness/jwks' && ctx.method === 'POST') {
    jwksDown = (await readForm(ctx)).toString().startsWith('down');
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/_harness/ttl' && ctx.method === 'POST') {
    accessTokenTTL = Number((await readForm(ctx)).toString().replace('=', '')) || 3600;
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/_harness/token' && ctx.method === 'POST') {
    tokenDown = (await readForm(ctx)).toString().startsWith('down');
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/token' && tokenDown) {
    ctx.status = 503;
    ctx.body = { error: 'temporarily_unavailable', error_description: 'the token endpoint is down' };
    return;
  }
  if (ctx.path === '/jwks' && jwksDown) {
    ctx.status = 503;
    ctx.body = 'key set unavailable';
    return;
  }
  if (ctx.path === '/user' && ctx.method === 'GET') {
    const value = (ctx.get('authorization') || '').replace(/^(Bearer|token) /i, '');
    const token = value ? await provider.AccessToken.find(value) : undefined;
    if (!token) {
      ctx.status = 401;
      ctx.body = { message: 'Bad credentials' };
      return;
    }
    const login = token.accountId;
    const id = [...login].reduce((sum, c) => sum * 31 + c.charCodeAt(0), 7) % 1e9;
    ctx.body = { id, login, name: login, email: `${login}@example.test` };
    return;
  }
  const match = ctx.path.match(/^\/interaction\/([\w-]+)$/);
  if (!match) return next();
  if (ctx.method === 'GET') {
    const { prompt } = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'html';
    ctx.body = `<form method="post" action="/interaction/${match[1]}" data-prompt="${prompt.name}">`
      + '<input name="login" value="tester"><button name="decision" value="allow">Allow</button>'
      + '<button name="decision" value="deny">Deny</button></form>';
    return;
  }
  if (ctx.method === 'POST') {
    const result = await finish(ctx, await readForm(ctx));
    ctx.status = 303;
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return;
  }
  return next();
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${config.issuer}`);
});
