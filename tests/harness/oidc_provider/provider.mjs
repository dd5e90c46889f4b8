// The OpenID provider of the ESS tests: panva's certified oidc-provider with its development login (any login,
// the password is not checked), on loopback. Configured by one JSON argument:
//   {"port": 0, "issuer": "http://127.0.0.1:PORT", "client_id": "...", "client_secret": "...",
//    "redirect_uris": [...], "post_logout_redirect_uris": [...], "accounts": {"login": {"email": ..., "groups": [...]}}}
// Prints "listening PORT" once it accepts connections.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'ess-test', use: 'sig', alg: 'RS256' };

const provider = new Provider(config.issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    post_logout_redirect_uris: config.post_logout_redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  ttl: { IdToken: config.id_token_ttl || 3600, AccessToken: 3600 },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    const account = (config.accounts || {})[id] || {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: account.name || id, email: account.email, groups: account.groups || [] };
      },
    };
  },
});
provider.proxy = false;

const server = http.createServer(provider.callback());
server.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
