using System.Numerics;
using Foresight.Tasks;

namespace Foresight.Tests;

/// <summary>The addition task: its arithmetic, fixed widths, text format and verifier, in both answer orders.</summary>
public sealed class AdditionTaskTests
{
    private static BigInteger Number(IEnumerable<int> digits) => digits.Aggregate(BigInteger.Zero, (n, d) => n * 10 + d);

    [Theory]
    [InlineData(1, AnswerOrder.MsbFirst)]
    [InlineData(3, AnswerOrder.MsbFirst)]
    [InlineData(20, AnswerOrder.MsbFirst)]
    [InlineData(7, AnswerOrder.LsbFirst)]
    public void Every_example_is_a_correct_sum_of_fixed_width(int digits, AnswerOrder order)
    {
        var task = new AdditionTask(digits, order);
        var random = SeededRandom.For(0, "addition");
        bool sawCarry = false;
        for (int i = 0; i < 300; i++)
        {
            var example = task.Generate(random);
            Assert.Equal(2 * digits + 2, example.Prefix.Length);
            Assert.Equal(digits + 1, example.Target.Length);
            Assert.Equal(task.Plus, example.Prefix[digits]);
            Assert.Equal(task.EqualsSign, example.Prefix[^1]);
            var a = Number(example.Prefix.Take(digits));
            var b = Number(example.Prefix.Skip(digits + 1).Take(digits));
            var answer = order == AnswerOrder.MsbFirst ? example.Target : example.Target.Reverse().ToArray();
            Assert.Equal(a + b, Number(answer));
            sawCarry |= answer[0] == 1;
            Assert.True(task.Accepts(example, example.Target));
        }
        Assert.True(sawCarry); // the leading carry digit is sometimes 1
    }

    [Fact]
    public void Lines_round_trip_and_tokenize_digit_by_digit()
    {
        var task = new AdditionTask(3);
        var example = task.Parse("042+919=0961");
        Assert.Equal([0, 4, 2, 10, 9, 1, 9, 11], example.Prefix);
        Assert.Equal([0, 9, 6, 1], example.Target);
        Assert.Equal("042+919=0961", task.Format(example));
        var lsb = new AdditionTask(3, AnswerOrder.LsbFirst);
        Assert.Equal("999+999=8991", lsb.Format(lsb.Encode([9, 9, 9], [9, 9, 9]))); // 1998, units first

        var random = SeededRandom.For(1, "addition");
        foreach (var order in Enum.GetValues<AnswerOrder>())
        {
            var ordered = new AdditionTask(5, order);
            for (int i = 0; i < 50; i++)
            {
                var generated = ordered.Generate(random);
                var parsed = ordered.Parse(ordered.Format(generated));
                Assert.Equal(generated.Prefix, parsed.Prefix);
                Assert.Equal(generated.Target, parsed.Target);
            }
        }
    }

    [Theory]
    [InlineData("042+919=0962", "042+919 = 0961 (msb-first), not 0962")]
    [InlineData("42+919=0961", "the first operand '42' must have 3 digits")]
    [InlineData("042+9x9=0961", "'x' is not a digit")]
    [InlineData("042-919=0961", "expected 'a+b' before '='")]
    [InlineData("042+919", "expected exactly one '='")]
    public void Malformed_lines_say_what_is_wrong(string line, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => new AdditionTask(3).Parse(line)).Message);

    [Fact]
    public void The_verifier_checks_the_arithmetic_place_by_place()
    {
        const int U = IVerifiableTask.Unwritten;
        var task = new AdditionTask(3);
        var example = task.Parse("042+919=0961");
        Assert.True(task.Accepts(example, [0, 9, 6, 1]));
        Assert.False(task.Accepts(example, [0, 9, 6, 2]));
        Assert.False(task.Accepts(example, [0, 9, 6, U]));
        Assert.True(task.Admits(example, [0, 9, U, U]));
        Assert.True(task.Admits(example, [U, U, U, 1])); // the units digit first, as lsb-first writing does
        Assert.False(task.Admits(example, [1, U, U, U]));
        Assert.False(task.Admits(example, [0, 9, 6]));
    }

    [Fact]
    public void Config_json_round_trips_through_the_registry()
    {
        var task = new AdditionTask(12, AnswerOrder.LsbFirst);
        var again = (AdditionTask)TaskSpec.FromJson(task.Spec.ToJson()).Build();
        Assert.Equal((12, AnswerOrder.LsbFirst), (again.Digits, again.Order));
        Assert.Equal("12-digit addition (lsb first)", again.Description);
        Assert.ThrowsAny<UserError>(() => new AdditionTask(21));
        Assert.ThrowsAny<UserError>(() => new AdditionTask(0));
    }
}
