// What Bull Board shows of a job's data and result passes through here: a job can carry a notifyUrl with
// a token, and results carry Runflow's presigned output URLs (their signature is a bearer credential
// for ~3 days). Keys that name a secret lose their value; URLs lose user info and signing parameters.

export const REDACTED = '[redacted]';

const SECRET_KEY = /secret|token|passw|authorization|signature|api[-_]?key|credential|cookie|private[-_]?key/i;
const SECRET_PARAM =
  /^(x-amz-(signature|credential|security-token)|x-goog-(signature|credential)|signature|sig|se|token|access_token|auth|key|api_?key|apikey|expires|policy|key-pair-id)$/i;

function redactUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  let changed = false;
  if (url.username || url.password) {
    url.username = REDACTED;
    url.password = '';
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      url.searchParams.set(name, REDACTED);
      changed = true;
    }
  }
  return changed ? url.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED) : value;
}

/** A deep copy of `value` with secrets replaced by "[redacted]"; the input is not changed. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        SECRET_KEY.test(key) && item !== null && item !== undefined && item !== ''
          ? REDACTED
          : redactSecrets(item, depth + 1),
      ]),
    );
  }
  return value;
}
