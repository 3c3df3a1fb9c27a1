import type { SameKeys } from "./shape";
import type { zhForms } from "./zh-forms";

// The admin area's forms, in English: the same keys and placeholders as zh-forms.ts.

export const enForms: SameKeys<typeof zhForms> = {
  sections: {
    adminCategories: {
      title: "Categories",
      deleteRule: "Only a category without questions or battles can be deleted.",
      aliasRule: "Aliases (comma or newline separated): the question import takes a category by slug, either name or any alias, ignoring case, width and separators.",
      questionCount: "{n} questions",
      newCategory: "New category",
      slug: "slug",
      nameZh: "Chinese name",
      nameEn: "English name",
      sortOrder: "Order",
      aliases: "Aliases",
      aliasesPlaceholder: "aliases (comma or newline separated)",
      aliasesHint: "Other names the question import accepts",
      save: "Save",
      add: "Add",
      delete: "Delete",
      confirmDelete: "Delete the category {slug}?",
    },
  },
  errors: {
    categorySlugTaken: "The slug \"{slug}\" is taken.",
    categoryAliasTaken: "The alias \"{alias}\" already names {owner}.",
    categoryInUse: "Questions or battles use this category; move them first.",
  },
  formErrors: {
    required: "Required.",
    tooLong: "At most {maximum} characters.",
    tooShort: "At least {minimum} characters.",
    tooSmall: "At least {minimum}.",
    tooLarge: "At most {maximum}.",
    slugFormat: "Lowercase letters, digits and '-', starting with a letter or digit.",
    aliasEmpty: "An alias cannot be empty.",
    aliasTooLong: "An alias is at most {maximum} characters.",
    aliasComma: "An alias cannot hold a comma (commas separate aliases).",
    aliasSeparatorsOnly: "An alias needs more than separators.",
    tooManyAliases: "At most {maximum} aliases.",
    aliasRepeats: "\"{alias}\" repeats \"{first}\".",
  },
};
