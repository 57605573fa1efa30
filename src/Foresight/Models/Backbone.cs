using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Models;

/// <summary>Which sequence model a method trains (--backbone).</summary>
public enum BackboneKind
{
    /// <summary>The GPT: attention blocks (<see cref="Gpt"/>).</summary>
    Gpt,

    /// <summary>A selective state-space model: Mamba blocks, causal by construction (<see cref="Mamba"/>).</summary>
    Mamba,
}

/// <summary>
/// What the methods need of a sequence model: token ids in, the residual stream after each block,
/// the final normalized states and the logits out. <see cref="Gpt"/> and <see cref="Mamba"/> are the two.
/// </summary>
public abstract class Backbone(string name) : nn.Module<Tensor, Tensor>(name)
{
    public abstract int VocabularySize { get; }
    public abstract int Width { get; }

    /// <summary>The longest input it takes, in tokens.</summary>
    public abstract int BlockSize { get; }

    /// <summary>Next-token logits at every position: (B, T) -> (B, T, V).</summary>
    public override Tensor forward(Tensor tokens) => Logits(Hidden(tokens));

    /// <summary>Starts decoding that reads each new token once; null where the model must re-read the whole sequence for every token.</summary>
    public virtual IncrementalDecoder? StartDecoding() => null;

    /// <summary>The final hidden states, after the last normalization.</summary>
    public Tensor Hidden(Tensor tokens) => Normalize(LayerStates(tokens)[^1]);

    /// <summary>The residual stream after the embeddings and after each block: layers + 1 tensors (B, T, C).</summary>
    public abstract IReadOnlyList<Tensor> LayerStates(Tensor tokens);

    /// <summary>(B, T, C) -> (B, T, V), through the output layer tied to the token embedding.</summary>
    // In fp32 whatever the precision: a small product, and bf16 logits tie often enough to change argmaxes.
    public Tensor Logits(Tensor hidden) => nn.functional.linear(hidden, OutputWeight);

    /// <summary>The output layer's weight (V, C): the token embedding, tied.</summary>
    public abstract Tensor OutputWeight { get; }

    /// <summary>The final normalization: what <see cref="Hidden"/> applies to the last block's output.</summary>
    public abstract Tensor Normalize(Tensor residual);

    /// <summary>Blocks one after another on the residual stream, each block's temporaries freed as it ends.</summary>
    protected static List<Tensor> Stack(Tensor embedded, IEnumerable<nn.Module<Tensor, Tensor>> blocks, int layers)
    {
        var states = new List<Tensor>(layers + 1) { embedded };
        foreach (var block in blocks)
        {
            // Autograd keeps what backward needs, so a forward pass holds one block's temporaries at a time rather than every layer's.
            using var scope = NewDisposeScope();
            states.Add(block.forward(states[^1]).MoveToOuterDisposeScope());
        }
        return states;
    }

    /// <summary>
    /// A linear layer applied in the compute precision: with bf16 its fp32 weights are cast for this use,
    /// so the optimizer keeps updating fp32 masters. The result is in the compute precision.
    /// </summary>
    internal static Tensor Project(TorchSharp.Modules.Linear layer, Tensor x, ScalarType compute) =>
        compute == ScalarType.Float32 ? layer.forward(x) : nn.functional.linear(x.to(compute), layer.weight!.to(compute), layer.bias?.to(compute));

    protected void CheckLength(Tensor tokens)
    {
        if (tokens.shape[1] > BlockSize) throw new ArgumentException($"sequence of {tokens.shape[1]} tokens exceeds the block size {BlockSize}");
    }
}

/// <summary>
/// Next-token logits for a sequence that grows by appending: each call reads only the tokens the previous
/// calls have not, so decoding costs one position per new token. Dispose it to free what it keeps.
/// </summary>
public abstract class IncrementalDecoder : IDisposable
{
    /// <summary>(B, L) -> (B, V): the logits of the token after the last; <paramref name="sequence"/> extends the one of the previous call.</summary>
    public abstract Tensor NextLogits(Tensor sequence);

    public abstract void Dispose();
}
