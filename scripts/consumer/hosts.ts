// @ts-nocheck -- this line is removed when check-package.sh copies the file into a consumer project.
// Root `npm run typecheck` includes scripts/, but this file is only meaningful against the packed
// tarball installed in a consumer's node_modules (dist/ does not exist when CI type-checks).
//
// A TypeScript user of the Vercel AI SDK (with openai 6 and 7): `client['fetch']` fits its fetch
// option as the README shows. Compile-only; hosts-langchain.ts does the same for LangChain.
import { createOpenAI } from '@ai-sdk/openai';
import { ResilientOpenAI } from 'resilient-openai';

const client = new ResilientOpenAI({ healthCheck: false });
const openai = createOpenAI({ apiKey: 'unused', fetch: client['fetch'] });
void openai.chat('gpt-4o-mini');

// @ts-expect-error -- openai declares `fetch` private in its .d.ts (public at runtime): the README's
// bracket form is the one that compiles; if this line ever compiles, the README can say `client.fetch`.
void client.fetch;
