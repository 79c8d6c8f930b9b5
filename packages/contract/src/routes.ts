import type { z } from 'zod';
import { CheckPortsRequest, CheckPortsResponse } from './check-ports.js';
import { CheckTlsRequest, CheckTlsResponse } from './check-tls.js';
import type { ErrorCode } from './errors.js';
import { HealthResponse, ReadyResponse, WhoamiResponse } from './operations.js';

export interface Route {
  method: 'get' | 'post';
  path: string;
  /** The JSON body, for a POST. */
  request?: z.ZodType;
  /** The 200's body. */
  response: z.ZodType;
  /** The error codes it answers with. */
  errors: readonly ErrorCode[];
}

const CHECK_ERRORS = [
  'INVALID_REQUEST',
  'INVALID_IP',
  'INVALID_PORT',
  'TOO_MANY_PORTS',
  'UNAUTHORIZED',
  'FORBIDDEN_TARGET',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
  'SERVICE_UNAVAILABLE',
  'CHECK_FAILED',
] as const satisfies readonly ErrorCode[];

/** Every route of the API, by operation id: the server mounts these paths and the OpenAPI document describes them. */
export const ROUTES = {
  checkPorts: { method: 'post', path: '/check-ports', request: CheckPortsRequest, response: CheckPortsResponse, errors: CHECK_ERRORS },
  checkTls: {
    method: 'post',
    path: '/check-tls',
    request: CheckTlsRequest,
    response: CheckTlsResponse,
    errors: CHECK_ERRORS.filter((code) => code !== 'TOO_MANY_PORTS'),
  },
  whoami: { method: 'get', path: '/whoami', response: WhoamiResponse, errors: ['INVALID_REQUEST'] },
  getReadiness: { method: 'get', path: '/ready', response: ReadyResponse, errors: ['SERVICE_UNAVAILABLE', 'NOT_READY'] },
  getHealth: { method: 'get', path: '/health', response: HealthResponse, errors: [] },
} as const satisfies Record<string, Route>;
