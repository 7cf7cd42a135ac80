import type { Dispatcher } from 'undici';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** No complete response arrived. `requestSent` is what classification hinges on (see classify-error.ts). */
export class TransportFailure extends Error {
  readonly requestSent: boolean;
  /** Set when the failure came after the response headers (e.g. a body timeout). */
  readonly status: number | undefined;
  /** True when the caller's AbortSignal ended the request. */
  readonly aborted: boolean;

  constructor(cause: unknown, init: { requestSent: boolean; status: number | undefined; aborted: boolean }) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'TransportFailure';
    this.requestSent = init.requestSent;
    this.status = init.status;
    this.aborted = init.aborted;
  }
}

export interface SendRequestOptions {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
}

/**
 * One HTTP exchange through undici's dispatch API, buffering the whole response body (so the socket always
 * goes back to the pool) and recording whether the request was handed to a socket.
 *
 * Why dispatch and not `pool.request()`: only a dispatch handler sees `onRequestStart`, which undici's HTTP/1.1
 * client calls on a connected socket immediately before writing the request (client-h1 `writeH1`). Connect
 * failures (refused, DNS, TLS, connect timeout) error the request while it is still pending, without that call.
 * So "onRequestStart happened" is exactly "bytes may have reached the server".
 *
 * Never retries: a failed request settles once, with a TransportFailure.
 */
export function sendRequest(dispatcher: Dispatcher, options: SendRequestOptions): Promise<RawResponse> {
  const { signal } = options;
  return new Promise<RawResponse>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let requestSent = false;
    let aborted = false;
    let pendingAbortReason: unknown;
    let status: number | undefined;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let settled = false;

    const onAbort = (): void => {
      aborted = true;
      const reason: unknown = signal?.reason ?? new Error('aborted');
      if (controller) {
        // Errors the request synchronously; onResponseError below settles the promise.
        controller.abort(reason instanceof Error ? reason : new Error(String(reason)));
        return;
      }
      // Still queued in the pool: nothing was written. Settle now; abort it if it ever starts.
      pendingAbortReason = reason;
      fail(reason);
    };

    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      action();
    };
    const fail = (error: unknown): void =>
      settle(() => reject(new TransportFailure(error, { requestSent, status, aborted })));

    if (signal?.aborted) {
      aborted = true;
      fail(signal.reason);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        if (pendingAbortReason !== undefined) {
          ctrl.abort(pendingAbortReason instanceof Error ? pendingAbortReason : new Error('aborted'));
          return;
        }
        controller = ctrl;
        requestSent = true;
      },
      onResponseStart(_ctrl, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(_ctrl, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        const response = { status: status ?? 0, headers, body: Buffer.concat(chunks) };
        // Hand the response over one check phase later. Right after onResponseEnd undici's HTTP/1.1 client still
        // counts the request as running and frees the socket with setImmediate(resume); a caller that sends its
        // next request straight away would find every socket busy and make the pool open a second connection
        // (undici's own pool.request() does that too). The microtask runs once the parser's stack has unwound,
        // so this immediate is queued after undici's and the socket is back in the pool when the caller resumes.
        queueMicrotask(() => setImmediate(() => settle(() => resolve(response))));
      },
      onResponseError(_ctrl, error) {
        fail(error);
      },
    };

    try {
      // A false return only means "busy": the request stays queued in the pool.
      dispatcher.dispatch(
        { method: options.method, path: options.path, headers: options.headers, body: options.body ?? null },
        handler,
      );
    } catch (error) {
      fail(error);
    }
  });
}
