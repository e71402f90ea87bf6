// A real OpenID Connect provider for the browser test of the app's sign-in with st.login:
// panva's oidc-provider (certified OpenID Connect), one confidential client, three people, and
// a plain sign-in form. It plays Amazon Cognito's part: the app and Streamlit talk to it exactly
// as they would to a Cognito user pool (discovery, authorization code with PKCE, ID token,
// RP-initiated logout).
//
//   node tests/oidc/provider.mjs --port 9000 --client-id shop --client-secret s3cret \
//     --redirect-uri http://127.0.0.1:8501/oauth2callback
//
// Every option may also come from the environment (OIDC_PORT, OIDC_ISSUER, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI). It listens on 127.0.0.1 only, keeps everything in
// memory (signing key included, made at start) and stops on SIGTERM or SIGINT.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { interactionPolicy } from 'oidc-provider';

// The people this provider knows. Every address is verified; mallory has no shop account, so
// the shop must refuse her although the provider signs her in. Passwords are published test
// values, like the shop's demo passwords.
const ACCOUNTS = {
  alice: { email: 'alice@example.com', name: 'Alice Example', password: 'demo-alice' },
  olga: { email: 'olga@example.com', name: 'Olga Example', password: 'demo-olga' },
  mallory: { email: 'mallory@example.com', name: 'Mallory Example', password: 'demo-mallory' },
};

function settings() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.OIDC_PORT },
      issuer: { type: 'string', default: process.env.OIDC_ISSUER },
      'client-id': { type: 'string', default: process.env.OIDC_CLIENT_ID },
      'client-secret': { type: 'string', default: process.env.OIDC_CLIENT_SECRET },
      'redirect-uri': { type: 'string', default: process.env.OIDC_REDIRECT_URI },
    },
  });
  for (const name of ['port', 'client-id', 'client-secret', 'redirect-uri']) {
    if (!values[name]) {
      throw new Error(`--${name} is required (see the top of provider.mjs)`);
    }
  }
  const port = Number(values.port);
  return {
    port,
    issuer: values.issuer || `http://127.0.0.1:${port}`,
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    redirectUri: values['redirect-uri'],
  };
}

function findAccount(ctx, id) {
  const account = ACCOUNTS[id];
  if (!account) {
    return undefined;
  }
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: account.email,
        email_verified: true,
        name: account.name,
        given_name: account.name.split(' ')[0],
        family_name: account.name.split(' ').slice(1).join(' '),
      };
    },
  };
}

function accountByEmail(email) {
  const wanted = String(email || '').trim().toLowerCase();
  return Object.entries(ACCOUNTS).find(([, account]) => account.email === wanted);
}

function page(title, body) {
  // No external fonts or scripts: the test browser has no internet.
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:3rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}</style>
</head><body>${body}</body></html>`;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function signInForm(uid, clientName, { email = '', error } = {}) {
  return page('Sign in', `<h1>Sign in</h1>
<p>to continue to ${escape(clientName)}</p>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="email">Email</label><input id="email" name="email" type="email" value="${escape(email)}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>`);
}

// Streamlit asks for prompt=select_account by default (Google-style); the base policy only
// knows login and consent. Here choosing an account is signing in, so the sign-in form answers
// both, and a first-party client needs no consent screen (the grant is made in
// loadExistingGrant below).
function policy() {
  const { Prompt, base } = interactionPolicy;
  const prompts = base();
  prompts.add(new Prompt({ name: 'select_account', requestable: true }), 0);
  return prompts;
}

function configuration({ clientId, clientSecret, redirectUri }) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' };
  return {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        client_name: 'Shoe assistant',
        redirect_uris: [redirectUri],
        // Streamlit's st.logout sends its redirect_uri as post_logout_redirect_uri.
        post_logout_redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount,
    // Lifetimes in seconds, short: a test run is minutes long.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    // Streamlit reads the person from the ID token (as Cognito's ID token carries them), not
    // from the userinfo endpoint: put the claims of the granted scopes in the ID token.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.body = page('Sign out', `<h1>Sign out of the provider?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
        },
      },
    },
    interactions: {
      policy: policy(),
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    async loadExistingGrant(ctx) {
      const grantId =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        return ctx.oidc.provider.Grant.find(grantId);
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Sign-in error</h1><p role="alert">${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
    },
  };
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) {
      throw new Error('form too large');
    }
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

// The sign-in form: GET shows it, POST checks the password and finishes the interaction.
async function interaction(provider, req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (error) {
    send(res, 400, page('Error', `<p role="alert">${escape(error.message)}</p>`));
    return;
  }
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName || details.params.client_id;
  if (!['login', 'select_account'].includes(details.prompt.name)) {
    send(res, 400, page('Error', `<p role="alert">unexpected prompt ${escape(details.prompt.name)}</p>`));
    return;
  }
  if (req.method === 'GET' && !action) {
    send(res, 200, signInForm(uid, clientName));
    return;
  }
  if (req.method !== 'POST' || action !== 'login') {
    send(res, 404, page('Not found', '<p>Not found</p>'));
    return;
  }
  const form = await readForm(req);
  const found = accountByEmail(form.get('email'));
  if (!found || found[1].password !== form.get('password')) {
    const error = 'Wrong email or password.';
    send(res, 200, signInForm(uid, clientName, { email: form.get('email'), error }));
    return;
  }
  await provider.interactionFinished(
    req,
    res,
    { select_account: {}, login: { accountId: found[0] } },
    { mergeWithLastSubmission: false },
  );
}

function main() {
  const options = settings();
  const provider = new Provider(options.issuer, configuration(options));
  const callback = provider.callback();
  const server = createServer((req, res) => {
    const match = /^\/interaction\/([\w-]+)(?:\/(\w+))?\/?(?:\?.*)?$/.exec(req.url);
    if (!match) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, match[1], match[2]).catch((error) => {
      console.error(error);
      if (!res.headersSent) {
        send(res, 500, page('Error', '<p role="alert">internal error</p>'));
      }
    });
  });
  server.listen(options.port, '127.0.0.1', () => {
    console.log(`oidc-provider listening on ${options.issuer}`);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => server.close(() => process.exit(0)));
  }
}

main();
