// A real OpenID provider for Rempart's identity tests (npm oidc-provider).
//
// Usage: node provider.mjs CONFIG.json
// CONFIG: { "port": 0, "issuer": "...", "jwks": {keys: [private JWKs]},
//           "clients": [client metadata], "users": { id: { claims: {...}, acr, amr } } }
// Listens on 127.0.0.1 only and prints "READY <port>" once it accepts connections.
//
// Logins are driven without a form: the tests follow the authorization
// redirect to /interaction/<uid>, then call /interaction/<uid>/auto?user=ID
// (optionally &acr=...&amr=a,b to override the user's authentication context).
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const users = cfg.users;

const provider = new Provider(cfg.issuer, {
  clients: cfg.clients,
  jwks: cfg.jwks,
  cookies: { keys: ['rempart-test-cookie-key-0123456789'] },
  acrValues: cfg.acrValues ?? [],
  claims: {
    iss: null,
    sid: null,
    // Under the openid scope so every ID token carries the authentication context.
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  pkce: { required: () => true },
  // The provider refuses to call loopback addresses (SSRF protection); the
  // Rempart server that receives back-channel logout tokens in the tests
  // listens on 127.0.0.1, so this test IdP alone calls it directly.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    void dispatcher;
    return globalThis.fetch(url, rest);
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!users[id]) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...users[id].claims };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

// Back-channel deliveries are recorded, so a failing test can say why.
const log = (line) => { if (cfg.log) fs.appendFileSync(cfg.log, `${line}\n`); };
provider.on('backchannel.success', (ctx, client) => log(`backchannel.success ${client.clientId}`));
provider.on('backchannel.error', (ctx, err, client) => log(`backchannel.error ${client.clientId} ${err.message}`));
provider.on('end_session.success', () => log('end_session.success'));

async function auto(req, res, url) {
  const details = await provider.interactionDetails(req, res);
  const id = url.searchParams.get('user');
  if (!users[id]) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('unknown test user');
    return;
  }
  const acr = url.searchParams.get('acr') ?? users[id].acr;
  const amrParam = url.searchParams.get('amr');
  const amr = amrParam !== null ? amrParam.split(',').filter(Boolean) : users[id].amr;
  const login = { accountId: id, acr, amr, remember: true };
  await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
  void details;
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const url = new URL(req.url, cfg.issuer);
  const match = url.pathname.match(/^\/interaction\/([^/]+)\/auto$/);
  if (match) {
    auto(req, res, url).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
    return;
  }
  if (url.pathname.startsWith('/interaction/')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('interaction required');
    return;
  }
  callback(req, res);
});
server.listen(cfg.port, '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
