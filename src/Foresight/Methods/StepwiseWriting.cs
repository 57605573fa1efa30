using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>Writing whole answers with an <see cref="IStepwiseDecoder"/>, one token at a time: what sampling, search and RL share.</summary>
public static class StepwiseWriting
{
    /// <summary>One answer per prompt (N, P), sampled token by token at <paramref name="temperature"/>: (N, T) in writing order.</summary>
    public static Tensor Sample(IStepwiseDecoder model, Tensor prompts, double temperature, Generator generator) =>
        Write(model, prompts, logits => multinomial(logits.Over(temperature).softmax(-1), 1, generator: generator));

    /// <summary>One answer per prompt (N, P), each token chosen by <paramref name="pick"/> from the next-token logits (N, V) -> (N, 1): (N, T) in writing order.</summary>
    internal static Tensor Write(IStepwiseDecoder model, Tensor prompts, Func<Tensor, Tensor> pick)
    {
        var written = zeros(prompts.shape[0], 0, dtype: ScalarType.Int64);
        for (int step = 0; step < model.WritingOrder.Count; step++)
            written = cat([written, pick(model.NextTokenLogits(prompts, written))], 1); // (N, step + 1)
        return written;
    }

    /// <summary>(B, T) tokens in writing order -> one task-order answer per row.</summary>
    internal static int[][] ToAnswers(Tensor written, IReadOnlyList<int> writingOrder)
    {
        long[] tokens = written.data<long>().ToArray();
        int rows = (int)written.shape[0], length = writingOrder.Count;
        var answers = new int[rows][];
        for (int r = 0; r < rows; r++)
        {
            answers[r] = new int[length];
            for (int j = 0; j < length; j++) answers[r][writingOrder[j]] = (int)tokens[r * length + j];
        }
        return answers;
    }
}
