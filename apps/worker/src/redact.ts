/** Log paths pino replaces with "[Redacted]": credentials and signatures never reach the logs. */
export const redactPaths = [
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["runflow-signature"]',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
];
