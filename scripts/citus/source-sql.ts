// The SQL written in the service's source: every sql`` template (interpolations as `$1`) and every
// other string literal, found with the TypeScript compiler's own parser.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'

export interface SourceSql {
  /** file:line */
  where: string
  text: string
  /** A sql`` template (SQL by construction), or any other string (checked for calls by name only). */
  kind: 'template' | 'string'
}

function* typescriptFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* typescriptFiles(path)
    else if (entry.name.endsWith('.ts')) yield path
  }
}

/** The SQL of every .ts file under the given directories (relative to root). */
export function sourceSql(root: string, dirs: readonly string[]): SourceSql[] {
  const found: SourceSql[] = []
  for (const dir of dirs) {
    for (const file of typescriptFiles(join(root, dir))) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
      const where = (node: ts.Node) => `${relative(root, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`
      const visit = (node: ts.Node): void => {
        if (ts.isTaggedTemplateExpression(node) && node.tag.getText(source) === 'sql') {
          const template = node.template
          const text = ts.isNoSubstitutionTemplateLiteral(template)
            ? template.text
            : template.head.text + template.templateSpans.map((span) => ` $1 ${span.literal.text}`).join('')
          found.push({ where: where(node), text, kind: 'template' })
          return
        }
        if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.push({ where: where(node), text: node.text, kind: 'string' })
        else if (ts.isTemplateExpression(node)) found.push({ where: where(node), text: node.head.text + node.templateSpans.map((s) => ` x ${s.literal.text}`).join(''), kind: 'string' })
        ts.forEachChild(node, visit)
      }
      visit(source)
    }
  }
  return found
}
