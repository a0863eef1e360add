/** What stands in for a secret wherever it would otherwise be shown, stored or logged. */
export const SECRET_MASK = '••••••';
