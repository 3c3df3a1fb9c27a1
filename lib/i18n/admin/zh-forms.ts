// The admin area's forms, in Chinese: their pages' sections, the server's refusals they show
// (merged into `errors`) and the field messages of the shared schemas (`formErrors`, keyed by the
// message a schema gives; `{maximum}`, `{minimum}` and a refinement's params fill the placeholders).

export const zhForms = {
  sections: {
    adminCategories: {
      title: "类别",
      deleteRule: "只有没有问题和对战的类别可以删除。",
      aliasRule: "别名（逗号或换行分隔）：导入问题时，类别可以写 slug、中文名、英文名或任一别名，不分大小写、全角半角，“、”“，”“/”与空格视为相同。",
      questionCount: "{n} 个问题",
      newCategory: "新类别",
      slug: "slug",
      nameZh: "中文名",
      nameEn: "英文名",
      sortOrder: "排序",
      aliases: "别名",
      aliasesPlaceholder: "别名（逗号或换行分隔）",
      aliasesHint: "导入问题时也认这些名称",
      save: "保存",
      add: "添加",
      delete: "删除",
      confirmDelete: "删除类别 {slug}？",
    },
  },
  errors: {
    categorySlugTaken: "slug “{slug}” 已被使用。",
    categoryAliasTaken: "别名“{alias}”已是类别 {owner} 的名称。",
    categoryInUse: "还有问题或对战使用这个类别，请先移走它们。",
  },
  formErrors: {
    required: "必填。",
    tooLong: "最多 {maximum} 个字符。",
    tooShort: "至少 {minimum} 个字符。",
    tooSmall: "不能小于 {minimum}。",
    tooLarge: "不能大于 {maximum}。",
    slugFormat: "只能用小写字母、数字和“-”，且以字母或数字开头。",
    aliasEmpty: "别名不能为空。",
    aliasTooLong: "每个别名最多 {maximum} 个字符。",
    aliasComma: "别名里不能有逗号（逗号用来分隔别名）。",
    aliasSeparatorsOnly: "别名不能只有分隔符。",
    tooManyAliases: "最多 {maximum} 个别名。",
    aliasRepeats: "“{alias}”与“{first}”重复。",
  },
};
