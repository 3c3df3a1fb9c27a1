-- Other names a category answers to in the question import. The seeded categories get the
-- names the original Chinese-LLaMA-Alpaca arena used (with its separators) and their English names.
ALTER TABLE "categories" ADD COLUMN     "aliases" TEXT[] DEFAULT ARRAY[]::TEXT[];

UPDATE "categories" SET "aliases" = ARRAY['知识问答', 'Knowledge QA', 'Question Answering'] WHERE "slug" = 'knowledge';
UPDATE "categories" SET "aliases" = ARRAY['开放式问答', 'Open QA'] WHERE "slug" = 'open-qa';
UPDATE "categories" SET "aliases" = ARRAY['数值计算、推理', 'Computation / Reasoning'] WHERE "slug" = 'math-reasoning';
UPDATE "categories" SET "aliases" = ARRAY['诗词、文学、哲学', 'Poetry / Literature / Philosophy'] WHERE "slug" = 'poetry-literature-philosophy';
UPDATE "categories" SET "aliases" = ARRAY['音乐、体育、娱乐', 'Music / Sports / Entertainment'] WHERE "slug" = 'music-sports-entertainment';
UPDATE "categories" SET "aliases" = ARRAY['写信、写文章', 'Letters and Articles'] WHERE "slug" = 'writing';
UPDATE "categories" SET "aliases" = ARRAY['文本翻译', 'Translation'] WHERE "slug" = 'translation';
UPDATE "categories" SET "aliases" = ARRAY['多轮交互', 'Multi-turn Dialogue'] WHERE "slug" = 'multi-turn';
UPDATE "categories" SET "aliases" = ARRAY['代码编程', 'Coding'] WHERE "slug" = 'coding';
UPDATE "categories" SET "aliases" = ARRAY['伦理、拒答', 'Ethics'] WHERE "slug" = 'ethics-refusal';
