// What a call is called in the OpenTelemetry GenAI semantic conventions.

/** `gen_ai.operation.name` by exact resource path; other paths are named by their method and first resource. */
const OPERATIONS: Record<string, string> = {
  'chat/completions': 'chat',
  responses: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  'images/generations': 'generate_content',
  'images/edits': 'generate_content',
  'audio/speech': 'generate_content',
  'audio/transcriptions': 'generate_content',
  'audio/translations': 'generate_content',
};

/** Whether an operation is one of the GenAI conventions (the others get no `gen_ai.*` metrics). */
export function isGenAI(operation: string): boolean {
  return GENAI.has(operation);
}
const GENAI = new Set(Object.values(OPERATIONS));

/** The operation of a request, e.g. `chat` for `POST /chat/completions`, `get files` for a listing. */
export function operationOf(method: string, path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  if (parts[0] === 'v1' || parts[0] === 'openai') parts.shift();
  // Azure: /deployments/{name}/chat/completions.
  if (parts[0] === 'deployments') parts.splice(0, 2);
  // The whole path: `POST /responses/input_tokens` or `/responses/{id}/cancel` is no chat.
  const known = method.toLowerCase() === 'post' ? OPERATIONS[parts.join('/')] : undefined;
  return known ?? `${method.toLowerCase()} ${parts[0] ?? ''}`.trim();
}

/** `server.address` and `server.port` of a base URL (never its userinfo or query). */
export function serverOf(baseURL: string): { address: string; port: number } | undefined {
  try {
    const url = new URL(baseURL);
    const port =
      url.port ? Number(url.port)
      : url.protocol === 'https:' ? 443
      : 80;
    return { address: url.hostname, port };
  } catch {
    return undefined;
  }
}

/** `error.type`: the HTTP status as a string, or the error's class (never its message). */
export function errorType(error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return String(status);
  if (typeof error === 'object' && error !== null) return error.constructor?.name ?? 'Error';
  return '_OTHER';
}
