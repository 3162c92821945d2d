// A real OpenID Connect provider for the single sign-on tests: the certified
// oidc-provider package, listening on 127.0.0.1 only. Started by tests/sso_provider.py.
//
// Settings come from the environment:
//   PORT      where to listen (127.0.0.1 only)
//   ISSUER    the issuer URL consult is configured with (the tests' proxy in front of us)
//   CLIENTS   JSON list of client metadata (client_id, client_secret, redirect_uris)
//   ACCOUNTS  path of a JSON file read at every login and token: {"anna": {"claims":
//             {...}, "amr": ["pwd", "mfa"], "acr": "..."}}, so a test can change a
//             person's claims (a revoked group) between two logins.
//
// The login page is this script's own small form (no password: the tests sign in as a
// named account); consent is granted at once, as a city's directory does for its own apps.
import fs from 'node:fs';
import http from 'node:http';
import { Provider } from 'oidc-provider';

const { PORT, ISSUER, CLIENTS, ACCOUNTS } = process.env;

function accounts() {
  return JSON.parse(fs.readFileSync(ACCOUNTS, 'utf8'));
}

const provider = new Provider(ISSUER, {
  clients: JSON.parse(CLIENTS),
  claims: {
    // acr and amr tell consult how the person signed in (its MFA rule).
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name', 'roles', 'groups'],
  },
  // The claims go into the ID token, as Entra ID and Keycloak put groups and roles there.
  conformIdTokenClaims: false,
  acrValues: ['urn:city:pwd', 'urn:city:mfa'],
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['consult-sso-tests-only'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, problem = '') {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>City sign-in</title></head>
<body><main><h1>City sign-in</h1>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">User name</label> <input id="login" name="login" autocomplete="username">
<button type="submit">Sign in</button>
</form></main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = loginPage(details.uid);
    return undefined;
  }
  if (ctx.method !== 'POST' || !match[2]) return next();
  const login = (await readForm(ctx.req)).get('login') || '';
  const account = accounts()[login];
  if (!account) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, 'Unknown user name.');
    return undefined;
  }
  const result = { login: { accountId: login, acr: account.acr, amr: account.amr } };
  const target = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.redirect(target);
  return undefined;
});

http.createServer(provider.callback()).listen(Number(PORT), '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${PORT}\n`);
});
