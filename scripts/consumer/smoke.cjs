const { ResilientOpenAI } = require('resilient-openai');
const OpenAI = require('openai');
require('./upstreams.cjs')
  .check(ResilientOpenAI, OpenAI.OpenAI, 'require()')
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
