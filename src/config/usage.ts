/** A command-line or configuration mistake: printed with the usage text, exit status 2. */
export class UsageError extends Error {}

/** Something that keeps the server from starting, said in one line a person can act on: printed without a stack, exit status 1. */
export class StartError extends Error {}
