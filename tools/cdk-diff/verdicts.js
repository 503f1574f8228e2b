// Prints, as JSON, what AWS CDK's template differ says of each resource of each
// pair of CloudFormation templates: {"<path>": {"<logical id>": "<ResourceImpact>"}}.
// usage: node verdicts.js BEFORE_OUT AFTER_OUT   (two out/ trees)
'use strict';
const fs = require('fs');
const path = require('path');
const { fullDiff } = require('@aws-cdk/cloudformation-diff');

function templates(root) {
  const found = {};
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.cfn.json')) {
        found[path.relative(root, full)] = JSON.parse(fs.readFileSync(full, 'utf8'));
      }
    }
  };
  walk(root);
  return found;
}

const [before, after] = process.argv.slice(2).map(templates);
const out = {};
for (const file of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
  const diff = fullDiff(before[file] || {}, after[file] || {});
  const verdicts = {};
  diff.resources.forEachDifference((id, change) => {
    verdicts[id] = change.changeImpact;
  });
  if (Object.keys(verdicts).length > 0) out[file] = verdicts;
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
