"""A small mixed Chinese + English corpus for training the demo tokenizer.

Written for Leitai; it only has to give SentencePiece enough varied text to learn a
few thousand pieces that cover everyday Chinese and English, digits and punctuation.
"""

from __future__ import annotations

_TEXT = """\
Welcome to the arena. Two anonymous models answer the same question, and you pick the better answer.
欢迎来到擂台。两个匿名模型回答同一个问题，由你来选择更好的回答。
After you vote, the names of both models are revealed.
投票之后，两个模型的名字才会公开。
The leaderboard is computed from thousands of votes with the Bradley-Terry model.
排行榜由成千上万张选票计算得出，使用的是布拉德利-特里模型。
A tie counts as half a win for each side, and so does a vote for "both are bad".
平局对双方各算半场胜利，"两个都不好"也一样。
What is the capital of France? The capital of France is Paris.
法国的首都是哪里？法国的首都是巴黎。
Please write a short poem about the moon over the river.
请写一首关于江上明月的短诗。
床前明月光，疑是地上霜。举头望明月，低头思故乡。
白日依山尽，黄河入海流。欲穷千里目，更上一层楼。
春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。
How do I sort a list of numbers in Python? Use the sorted function or the sort method.
如何在Python中对数字列表排序？可以使用sorted函数或者列表的sort方法。
Explain the difference between a process and a thread.
请解释进程和线程的区别。
A process has its own memory space, while threads inside one process share memory.
进程拥有独立的内存空间，而同一进程中的线程共享内存。
The weather today is sunny with a light breeze, and the temperature is about 25 degrees.
今天天气晴朗，微风轻拂，气温大约二十五度。
I would like to book a table for four people at seven o'clock tonight.
我想预订今晚七点四个人的座位。
Large language models are trained on large amounts of text to predict the next token.
大语言模型在大量文本上训练，用来预测下一个词元。
The tokenizer splits text into pieces, and each piece has an id in the vocabulary.
分词器把文本切分成片段，每个片段在词表中都有一个编号。
Chinese LLaMA extends the original vocabulary with Chinese characters and words.
中文LLaMA在原始词表的基础上扩充了中文字符和词语。
Alpaca models are fine-tuned to follow instructions and hold a conversation.
Alpaca模型经过指令精调，能够遵循指令并进行多轮对话。
You are a helpful assistant. 你是一个乐于助人的助手。
Summarize the following paragraph in one sentence.
请用一句话总结下面这段话。
Translate into English: 学而时习之，不亦说乎？
Translation: Is it not a pleasure to learn and to practice what you have learned?
Translate into Chinese: Knowledge is power.
翻译：知识就是力量。
The quick brown fox jumps over the lazy dog.
敏捷的棕色狐狸跳过了那只懒狗。
One, two, three, four, five, six, seven, eight, nine, ten.
一、二、三、四、五、六、七、八、九、十。
In 2023 the model was released with 7 billion and 13 billion parameters.
二〇二三年，该模型发布了七十亿和一百三十亿参数的版本。
The context window was extended from 4096 to 16384 tokens with position interpolation.
通过位置插值，上下文窗口从4096扩展到了16384个词元。
YaRN scales rotary position embeddings so that long documents can be read at once.
YaRN缩放旋转位置编码，使模型能够一次读完很长的文档。
Good morning! How are you today? I am fine, thank you, and you?
早上好！你今天怎么样？我很好，谢谢，你呢？
Could you recommend a few books about history and philosophy?
你能推荐几本关于历史和哲学的书吗？
The Great Wall is more than twenty thousand kilometers long.
长城全长两万多公里。
Beijing, Shanghai, Guangzhou and Shenzhen are large cities in China.
北京、上海、广州和深圳是中国的大城市。
Hangzhou is famous for the West Lake and for Longjing tea.
杭州以西湖和龙井茶闻名。
To make tea, boil the water, warm the cup, and wait three minutes.
泡茶时，先把水烧开，温一下杯子，再等三分钟。
Mathematics: two plus two equals four, and seven times eight equals fifty-six.
数学：二加二等于四，七乘以八等于五十六。
Solve the equation x + 3 = 10. The answer is x = 7.
解方程 x + 3 = 10，答案是 x = 7。
The train leaves at 08:45 and arrives at 12:30.
火车八点四十五分出发，十二点三十分到达。
Keep your answers short, accurate and polite.
回答要简洁、准确、有礼貌。
If you do not know the answer, say so honestly instead of making something up.
如果你不知道答案，请诚实地说出来，不要编造。
The server streams tokens to the browser as soon as they are generated.
服务器在生成词元后立即把它们流式传输到浏览器。
Continuous batching lets new requests join while other requests are still decoding.
连续批处理让新的请求在其他请求解码时加入批次。
The key-value cache is stored in fixed-size blocks to avoid fragmentation.
键值缓存存放在固定大小的块中，以避免内存碎片。
Thank you for using this service. Have a nice day!
感谢使用本服务，祝你有美好的一天！
Spring, summer, autumn and winter are the four seasons of the year.
春、夏、秋、冬是一年的四个季节。
My favourite fruits are apples, bananas, oranges and grapes.
我最喜欢的水果是苹果、香蕉、橙子和葡萄。
Computers store numbers in binary, using only zeros and ones.
计算机用二进制存储数字，只使用零和一。
Write a function that returns the n-th Fibonacci number.
写一个函数，返回第n个斐波那契数。
def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
for i in range(10): print(i * i)
The doctor said I should drink more water and sleep earlier.
医生说我应该多喝水，早点睡觉。
Learning a language takes patience, practice and curiosity.
学习一门语言需要耐心、练习和好奇心。
The library opens at nine in the morning and closes at nine in the evening.
图书馆早上九点开门，晚上九点关门。
Cats sleep for most of the day; dogs like to go for walks.
猫一天中大部分时间都在睡觉；狗喜欢出去散步。
Please list three advantages and three disadvantages of working from home.
请列出在家办公的三个优点和三个缺点。
The river flows east to the sea, and the mountains stand quietly in the west.
江水向东流入大海，群山静静地立在西边。
An apple a day keeps the doctor away.
一天一个苹果，医生远离我。
"""

_SUBJECTS = ["The model", "This answer", "The first side", "The second side", "A voter", "The question"]
_SUBJECTS_ZH = ["模型", "这个回答", "第一个回答", "第二个回答", "投票者", "这个问题"]
_PREDICATES = [
    "is clear and helpful", "contains a small mistake", "is too long", "answers in Chinese",
    "explains every step", "follows the instruction",
]
_PREDICATES_ZH = ["清楚而且有帮助", "有一个小错误", "太长了", "用中文回答", "解释了每一步", "遵循了指令"]


def corpus_lines() -> list[str]:
    """The training sentences: the fixed text plus templated variations (deterministic)."""
    lines = [line for line in _TEXT.splitlines() if line.strip()]
    for i, (subject, subject_zh) in enumerate(zip(_SUBJECTS, _SUBJECTS_ZH, strict=True)):
        for j, (predicate, predicate_zh) in enumerate(zip(_PREDICATES, _PREDICATES_ZH, strict=True)):
            n = 17 * i + 5 * j
            lines.append(f"{subject} {predicate}, score {n} out of 100.")
            lines.append(f"{subject_zh}{predicate_zh}，得分{n}（满分100）。")
    return lines
