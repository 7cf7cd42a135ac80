import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import { classifyTransportFailure } from './classify-error.ts';
import { isRunflowApiError, RunflowApiError } from './runflow-api-error.ts';

// The integration tests cover the failures a local socket can produce; these pin the label for the ones it
// cannot (a connect timeout needs a black-holed address), using undici's real error classes.
const base = {
  method: 'POST',
  path: '/v1/models/x/runs',
  redact: (text: string) => text,
  status: undefined,
  aborted: false,
};

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
}

describe('classifyTransportFailure', () => {
  it('labels unsent failures retryable, whatever the endpoint', () => {
    const timeout = classifyTransportFailure({
      ...base,
      endpoint: 'createRun',
      error: new errors.ConnectTimeoutError(),
      requestSent: false,
    });
    expect(timeout).toMatchObject({ kind: 'retryable', code: 'CONNECT_TIMEOUT', requestSent: false });

    const aggregate = new AggregateError([refused(), refused()], '');
    const happyEyeballs = classifyTransportFailure({
      ...base,
      endpoint: 'createRun',
      error: aggregate,
      requestSent: false,
    });
    expect(happyEyeballs).toMatchObject({ kind: 'retryable', code: 'NETWORK_ERROR' });
    expect(happyEyeballs.message).toContain('ECONNREFUSED');

    const closed = classifyTransportFailure({
      ...base,
      endpoint: 'createRun',
      error: new errors.ClientClosedError(),
      requestSent: false,
    });
    expect(closed).toMatchObject({ kind: 'retryable', code: 'CLIENT_CLOSED' });
  });

  it('labels sent failures ambiguous for createRun and retryable for getRun', () => {
    const cases: [Error, string][] = [
      [new errors.HeadersTimeoutError(), 'TIMEOUT'],
      [new errors.BodyTimeoutError(), 'TIMEOUT'],
      [new errors.SocketError('other side closed'), 'CONNECTION_RESET'],
      [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'CONNECTION_RESET'],
      [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'CONNECTION_RESET'],
      [new errors.ResponseExceededMaxSizeError(), 'RESPONSE_TOO_LARGE'],
    ];
    for (const [error, code] of cases) {
      const create = classifyTransportFailure({ ...base, endpoint: 'createRun', error, requestSent: true });
      expect(create, error.name).toMatchObject({ kind: 'ambiguous', code, requestSent: true });
      expect(create.message).toContain('resolve it before creating another');
      const get = classifyTransportFailure({ ...base, endpoint: 'getRun', error, requestSent: true });
      expect(get, error.name).toMatchObject({ kind: 'retryable', code });
    }
  });

  it('decides on requestSent, not the code: an ECONNRESET before the write is retryable', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const error = classifyTransportFailure({ ...base, endpoint: 'createRun', error: reset, requestSent: false });
    expect(error).toMatchObject({ kind: 'retryable', code: 'NETWORK_ERROR', requestSent: false });
  });

  it('labels an invalid argument (e.g. a header with CR/LF) permanent', () => {
    const error = classifyTransportFailure({
      ...base,
      endpoint: 'createRun',
      error: new errors.InvalidArgumentError('invalid idempotency-key header'),
      requestSent: false,
    });
    expect(error).toMatchObject({ kind: 'permanent', code: 'INVALID_REQUEST', requestSent: false });
  });
});

describe('isRunflowApiError', () => {
  it('recognises instances and look-alikes from another copy of the module, nothing else', () => {
    const real = new RunflowApiError('x', {
      kind: 'permanent',
      endpoint: 'getRun',
      status: 404,
      code: 'RUN_NOT_FOUND',
      requestSent: true,
    });
    const lookAlike = Object.assign(new Error('x'), {
      name: 'RunflowApiError',
      kind: 'retryable',
      code: 'RATE_LIMITED',
    });
    expect(isRunflowApiError(real)).toBe(true);
    expect(isRunflowApiError(lookAlike)).toBe(true);
    expect(isRunflowApiError(new Error('x'))).toBe(false);
    expect(isRunflowApiError({ name: 'RunflowApiError', kind: 'retryable', code: 'X' })).toBe(false);
  });
});
