using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>
/// Next-token prediction of the reversed target (goal first): each step of the reversed path is the
/// unique parent of the previous node, so every token is learnable; reversed back before scoring.
/// A task whose answer reads backwards in its own way (a path of multi-token labels, padded) reverses it
/// itself; a decoded answer that is not one then stays in writing order, so only its exact match means anything.
/// </summary>
[Method("reverse", "next-token prediction of the reversed target", PerPositionLoss = true)]
public sealed class Reverse(MethodContext context) : AutoregressiveMethod(context)
{
    private readonly IReversibleTask? _task = context.Task as IReversibleTask;

    protected override Tensor ToTrainingOrder(Tensor target) => _task is null ? target.flip(1) : EachRow(target, target, (row, _) => _task.ReverseAnswer(row));
    protected override Tensor ToTaskOrder(Tensor target) => _task is null ? target.flip(1) : EachRow(target, target, (row, _) => _task.ReverseAnswer(row));

    /// <summary>Teacher-forced predictions go back to the places of the target tokens they were scored against.</summary>
    protected override Tensor ToTaskOrder(Tensor predictions, Tensor target) => _task is null ? predictions.flip(1)
        : EachRow(predictions, target, (row, truth) =>
        {
            var back = new int[row.Length];
            var order = _task.ReversalOrder(truth)!;
            for (int j = 0; j < row.Length; j++) back[order[j]] = row[j];
            return back;
        });

    public override string? VariableOrder => _task is null ? null
        : $"reverse writes each answer of {_task.Description} in its own order (node by node from the goal), not in one fixed order of positions";

    /// <summary>(B, T) -> (B, T): <paramref name="map"/> applied to each row of <paramref name="rows"/> with the same row of <paramref name="target"/>.</summary>
    private static Tensor EachRow(Tensor rows, Tensor target, Func<int[], int[], int[]> map)
    {
        int t = (int)rows.shape[1];
        int[] Row(long[] flat, int i) => [.. flat.AsSpan(i * t, t).ToArray().Select(x => (int)x)];
        long[] values = rows.cpu().contiguous().data<long>().ToArray(), truths = target.cpu().contiguous().data<long>().ToArray();
        var mapped = new long[values.Length];
        for (int i = 0; i < values.Length / t; i++)
        {
            int[] row = map(Row(values, i), Row(truths, i));
            for (int j = 0; j < t; j++) mapped[i * t + j] = row[j];
        }
        return tensor(mapped, rows.shape, ScalarType.Int64).to(rows.device);
    }
}
