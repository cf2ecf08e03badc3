// natural ships types only for its root, which loads ./.env and every submodule (about a
// second). We import single submodules instead, so they need declarations of their own.
declare module 'natural/lib/natural/stemmers/porter_stemmer.js' {
  const stemmer: { stem(token: string): string }
  export default stemmer
}
declare module 'natural/lib/natural/stemmers/porter_stemmer_es.js' {
  const stemmer: { stem(token: string): string }
  export default stemmer
}
declare module 'natural/lib/natural/stemmers/porter_stemmer_fr.js' {
  const stemmer: { stem(token: string): string }
  export default stemmer
}
declare module 'natural/lib/natural/stemmers/porter_stemmer_pt.js' {
  const stemmer: { stem(token: string): string }
  export default stemmer
}
declare module 'natural/lib/natural/util/stopwords.js' {
  export const words: string[]
}
declare module 'natural/lib/natural/util/stopwords_es.js' {
  export const words: string[]
}
declare module 'natural/lib/natural/util/stopwords_fr.js' {
  export const words: string[]
}
declare module 'natural/lib/natural/util/stopwords_pt.js' {
  export const words: string[]
}
declare module 'natural/lib/natural/classifiers/bayes_classifier.js' {
  class BayesClassifier {
    addDocument(text: string | string[], label: string): void
    train(): void
    classify(text: string | string[]): string
    getClassifications(text: string | string[]): { label: string; value: number }[]
  }
  export default BayesClassifier
}
