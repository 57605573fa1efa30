using Foresight.Models;
using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>
/// What every method on one causal GPT shares: the model sized for the task, and the logits at the
/// positions that predict each target token from an input of prefix + (T - 1) target-slot tokens.
/// </summary>
public abstract class GptMethod : ITrainingMethod
{
    protected GptMethod(MethodContext context)
    {
        PrefixLength = context.Task.PrefixLength;
        TargetLength = context.Task.TargetLength;
        Gpt = new Gpt(context.Model.ToGpt(context.Task, TokensPerExample));
    }

    public nn.Module Model => Gpt;
    public int TokensPerExample => PrefixLength + TargetLength - 1;

    protected Gpt Gpt { get; }
    protected int PrefixLength { get; }
    protected int TargetLength { get; }

    public abstract Tensor Loss(Tasks.Batch batch);
    public abstract Tensor Decode(Tensor prefix);
    public abstract Tensor TeacherForced(Tasks.Batch batch);

    /// <summary>(B, P + T - 1) -> (B, T, V): the logits for target positions 0..T-1.</summary>
    protected Tensor TargetLogits(Tensor input) => Gpt.forward(input).narrow(1, PrefixLength - 1, TargetLength);

    public void Dispose() => Gpt.Dispose();
}
