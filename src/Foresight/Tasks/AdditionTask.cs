namespace Foresight.Tasks;

/// <summary>The order in which an addition's answer is written.</summary>
public enum AnswerOrder
{
    /// <summary>Most significant digit first, as people write it: the first digit is the carry out of every column.</summary>
    MsbFirst,

    /// <summary>Least significant digit first: each digit needs only its column and the carry already written.</summary>
    LsbFirst,
}

/// <summary>Addition's options: digits per operand and the order the answer is written in.</summary>
public sealed record AdditionOptions : ITaskOptions
{
    [Option("digits per operand; the answer has one more")]
    public int Digits { get; init; } = 3;

    [Option("msb-first (as people write it) or lsb-first")]
    public AnswerOrder AnswerOrder { get; init; } = AnswerOrder.MsbFirst;

    public void Validate() => OptionChecks.InRange(Digits, 1, AdditionTask.MaxDigits, "digits");
}

/// <summary>
/// k-digit addition (seed 001's second experiment): the prompt is <c>a+b=</c> with both operands written
/// in k digits (leading zeros kept), the answer the sum in k + 1 digits (the first is the carry, 0 or 1),
/// so every example has the same length. Tokens: digits 0-9, then '+', '=', '$'. Line format:
/// <c>042+919=0961</c> (k = 3), with the answer in <see cref="Order"/>.
/// </summary>
[Task("addition", "k-digit sums a+b=, the answer in k+1 digits; the addition slide of Bachmann & Nagarajan's ICML 2024 talk", Options = typeof(AdditionOptions))]
public sealed class AdditionTask : IVerifiableTask
{
    public const int MaxDigits = 20;

    public AdditionTask(AdditionOptions options)
    {
        options = TaskRegistry.Validated(options);
        (Digits, Order) = (options.Digits, options.AnswerOrder);
        Spec = new TaskSpec(Name, options);
    }

    public AdditionTask(int digits, AnswerOrder order = AnswerOrder.MsbFirst) : this(new AdditionOptions { Digits = digits, AnswerOrder = order })
    {
    }

    public int Digits { get; }
    public AnswerOrder Order { get; }

    public int Plus => 10;
    public int EqualsSign => 11;
    public int FillerToken => 12;

    public string Name => "addition";
    public TaskSpec Spec { get; }
    public string Description => $"{Digits}-digit addition{(Order == AnswerOrder.LsbFirst ? " (lsb first)" : "")}";
    public int VocabularySize => 13;
    public int PrefixLength => 2 * Digits + 2;
    public int TargetLength => Digits + 1;

    /// <summary>The first digit written: the carry out of all columns (msb first), or the units digit (lsb first).</summary>
    public int FirstDecisionPosition => 0;
    public double FirstDecisionChance => Order == AnswerOrder.MsbFirst ? 0.5 : 0.1;
    public string FirstTargetPosition => Order == AnswerOrder.MsbFirst ? "the carry digit" : "the units digit";

    public Example Generate(SeededRandom random)
    {
        var a = new int[Digits];
        var b = new int[Digits];
        for (int i = 0; i < Digits; i++) (a[i], b[i]) = (random.Next(10), random.Next(10));
        return Encode(a, b);
    }

    /// <summary>The operands in their order: a+b and b+a are two problems (the model sees different prompts).</summary>
    public string ProblemKey(Example example) => string.Concat(example.Prefix.Select(Symbol));

    public double ProblemCount => Math.Pow(10, 2 * Digits);

    /// <summary>The example for operands given as digits, most significant first.</summary>
    public Example Encode(int[] a, int[] b)
    {
        int[] prefix = [.. a, Plus, .. b, EqualsSign];
        return new Example(prefix, Sum(prefix));
    }

    /// <summary>The answer the prompt asks for, in the task's order: the sum, column by column from the units up.</summary>
    private int[] Sum(int[] prefix)
    {
        var sum = new int[TargetLength]; // most significant first
        int carry = 0;
        for (int column = Digits - 1; column >= 0; column--)
        {
            int total = prefix[column] + prefix[Digits + 1 + column] + carry;
            sum[column + 1] = total % 10;
            carry = total / 10;
        }
        sum[0] = carry;
        if (Order == AnswerOrder.LsbFirst) Array.Reverse(sum);
        return sum;
    }

    public string Format(Example example) =>
        string.Concat(example.Prefix.Select(Symbol)) + string.Concat(example.Target.Select(Symbol));

    public Example Parse(string line)
    {
        string[] sides = line.Trim().Split('=');
        if (sides.Length != 2) throw new FormatException($"expected exactly one '=' between the sum and its answer, found {sides.Length - 1}");
        string[] operands = sides[0].Split('+');
        if (operands.Length != 2) throw new FormatException($"expected 'a+b' before '=', found {operands.Length - 1} '+'");
        var a = DigitsOf(operands[0], "the first operand", Digits);
        var b = DigitsOf(operands[1], "the second operand", Digits);
        var answer = DigitsOf(sides[1], "the answer", TargetLength);
        var example = Encode(a, b);
        if (!answer.SequenceEqual(example.Target))
            throw new FormatException($"{sides[0]} = {string.Concat(example.Target.Select(Symbol))} ({OrderName}), not {sides[1]}");
        return example;
    }

    public bool Accepts(Example example, ReadOnlySpan<int> answer) => answer.SequenceEqual(Sum(example.Prefix));

    /// <summary>Every written digit is the sum's digit at its place: arithmetic checks each place, in any writing order.</summary>
    public bool Admits(Example example, ReadOnlySpan<int> partial)
    {
        if (partial.Length != TargetLength) return false;
        var sum = Sum(example.Prefix);
        for (int i = 0; i < partial.Length; i++)
            if (partial[i] != IVerifiableTask.Unwritten && partial[i] != sum[i]) return false;
        return true;
    }

    private string OrderName => Json.EnumName(Order);

    private int[] DigitsOf(string text, string what, int length)
    {
        if (text.Length != length) throw new FormatException($"{what} '{text}' must have {length} digits for {Description}");
        var digits = new int[length];
        for (int i = 0; i < length; i++)
            digits[i] = text[i] is >= '0' and <= '9' ? text[i] - '0' : throw new FormatException($"{what} '{text}': '{text[i]}' is not a digit");
        return digits;
    }

    private char Symbol(int token) => token switch
    {
        < 10 and >= 0 => (char)('0' + token),
        10 => '+',
        11 => '=',
        12 => '$',
        _ => throw new ArgumentOutOfRangeException(nameof(token), $"token {token} is outside the vocabulary of {Description}"),
    };
}
