/** Domain errors: thrown anywhere, mapped to HTTP statuses once, in the API's onError. */
export class DrydockError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export class NotFoundError extends DrydockError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} was not found`);
  }
}

export type FieldErrors = Record<string, string[]>;

export class ValidationError extends DrydockError {
  readonly fields: FieldErrors;
  constructor(message: string, fields: FieldErrors = {}) {
    super('invalid', message);
    this.fields = fields;
  }
}

export class ConflictError extends DrydockError {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class UnauthorizedError extends DrydockError {
  constructor(message = 'authentication required') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends DrydockError {
  constructor(message: string) {
    super('forbidden', message);
  }
}
