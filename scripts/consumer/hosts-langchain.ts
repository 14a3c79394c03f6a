// @ts-nocheck -- this line is removed when check-package.sh copies the file into a consumer project.
// Root `npm run typecheck` includes scripts/, but this file is only meaningful against the packed
// tarball installed in a consumer's node_modules (dist/ does not exist when CI type-checks).
//
// A TypeScript user of LangChain.js (openai 7 only: @langchain/openai depends on openai ^7):
// `client['fetch']` fits its `configuration.fetch` as the README shows. Compile-only.
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { ResilientOpenAI } from 'resilient-openai';

const client = new ResilientOpenAI({ healthCheck: false });
const configuration = { fetch: client['fetch'] };
void new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'unused', maxRetries: 0, configuration });
void new ChatOpenAI({ configuration: { fetch: client['fetch'] } });
void new OpenAIEmbeddings({ configuration: { fetch: client['fetch'] } });
