import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorResponse } from '@port-checker/shared';

/** body-parser marks its errors with a `type` and a 4xx `status`. */
interface HttpError extends Error {
  type?: string;
  status?: number;
  expose?: boolean;
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const httpError = error as HttpError;
  if (httpError?.type === 'entity.too.large') {
    return new AppError('PAYLOAD_TOO_LARGE', 'the request body is larger than 16 KiB', { cause: error });
  }
  if (httpError?.type === 'entity.parse.failed') {
    return new AppError('INVALID_REQUEST', 'the request body is not valid JSON', { cause: error });
  }
  // Express's router throws this for a path parameter that is not valid percent-encoding.
  if (error instanceof URIError) {
    return new AppError('INVALID_REQUEST', 'the path is not valid percent-encoded UTF-8', { cause: error });
  }
  if (httpError?.status === 404) {
    return new AppError('NOT_FOUND', 'no such file', { cause: error });
  }
  if (httpError?.expose && httpError.status && httpError.status < 500) {
    return new AppError('INVALID_REQUEST', httpError.message, { cause: error });
  }
  return new AppError('INTERNAL_ERROR', 'internal error; it has been logged', { cause: error });
}

/** The one place errors become HTTP answers: `{"detail": {"code", "message", "limit"?}}`, never a stack. */
export const errorHandler: ErrorRequestHandler = (error, _req, res, _next) => {
  const appError = toAppError(error);
  res.locals.record.failed(appError);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.set(appError.headers);
  if (appError.retryAfter !== undefined) res.set('Retry-After', String(appError.retryAfter));
  const body: ErrorResponse = { detail: { code: appError.code, message: appError.message, ...(appError.limit && { limit: appError.limit }) } };
  res.status(appError.status).json(body);
};

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
};
