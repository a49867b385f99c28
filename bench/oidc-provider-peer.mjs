// The comparison peer of `npm run bench`: node-oidc-provider 9 on loopback, configured to issue
// ES256 JWT access tokens for the client-credentials grant (the same work Latchkey's token endpoint
// does). In-memory adapter (the default). Prints `LISTENING <port>` on stdout once it accepts requests.
// Usage: node bench/oidc-provider-peer.mjs [port]   (0 or absent: an ephemeral port)
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const requestedPort = Number(process.argv[2] ?? 0);
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

// The issuer must be known before listening; bind first, then attach the provider's callback.
const server = createServer();
await new Promise((resolve) => server.listen(requestedPort, '127.0.0.1', resolve));
const { port } = server.address();

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'demo-service',
      client_secret: 'demo-service-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      // The only key is ES256; the RS256 default would make the client metadata invalid.
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: ['devices:read', 'devices:write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://api.example',
      getResourceServerInfo: () => ({
        scope: 'devices:read devices:write',
        audience: 'https://api.example',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
      useGrantedResource: () => true,
    },
  },
});
// No per-request logging: the default only warns about the in-memory adapter once, at start.
server.on('request', provider.callback());

const shutdown = () => server.close(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
process.stdout.write(`LISTENING ${port}\n`);
