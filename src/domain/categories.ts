import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'

const CategorySchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'ids are lower-case kebab-case'),
  zh: z.string().min(1),
  en: z.string().min(1),
  hs: z.array(z.string().regex(/^\d{2,10}$/, 'HS prefixes are 2-10 digits without dots')).min(1),
  exportWeight: z.number().min(0).max(1),
  figure: z.string().optional(),
})
const CategoriesFileSchema = z.object({ categories: z.array(CategorySchema).min(1) })

export type Category = z.infer<typeof CategorySchema>

export const DEFAULT_CATEGORIES_FILE = path.join(projectRoot, 'seeds', 'categories.yaml')

let cached: Category[] | undefined
/** Beijing's export categories from seeds/categories.yaml (validated; cached per process). */
export function loadCategories(file = DEFAULT_CATEGORIES_FILE): Category[] {
  if (file === DEFAULT_CATEGORIES_FILE && cached) return cached
  const { categories } = loadYamlFile(file, CategoriesFileSchema)
  const ids = new Set<string>()
  for (const c of categories) {
    if (ids.has(c.id)) throw new Error(`${file}: duplicate category id ${c.id}`)
    ids.add(c.id)
  }
  if (file === DEFAULT_CATEGORIES_FILE) cached = categories
  return categories
}

/**
 * Maps HS codes to categories by longest prefix, so a specific category wins over a
 * broad one. A code shorter than a category's prefix (a chapter-only "85") matches the
 * category whose prefix it starts, only when that category is the chapter itself.
 */
export class CategoryIndex {
  private readonly prefixes: { prefix: string; category: Category }[]
  constructor(readonly categories: Category[]) {
    this.prefixes = categories
      .flatMap((category) => category.hs.map((prefix) => ({ prefix, category })))
      .sort((a, b) => b.prefix.length - a.prefix.length)
  }

  /** The category of one HS code, or undefined when Beijing does not export it. */
  categoryOf(code: string): Category | undefined {
    for (const p of this.prefixes) if (code.startsWith(p.prefix)) return p.category
    return undefined
  }

  byId(id: string): Category | undefined {
    return this.categories.find((c) => c.id === id)
  }
}
