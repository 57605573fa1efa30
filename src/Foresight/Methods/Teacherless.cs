using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>Teacherless training's options.</summary>
public sealed record TeacherlessOptions : IMethodOptions
{
    /// <summary>
    /// Nagarajan et al. (2025) train "teacherless" on a hybrid data set: every teacher-forced row is kept and teacherless
    /// rows are added (their <c>*_hybrid.ipynb</c>: weight 1 for sibling discovery, 0.5 for triangle, 3 for circle and
    /// line), and the model answers left to right (<c>generate</c>).
    /// </summary>
    [Option("0: teacherless alone, answers decoded in one pass (Bachmann & Nagarajan); w > 0: ntp's loss plus w x the teacherless loss, answers decoded left to right (Nagarajan et al. 2025's hybrid)", Label = "hybrid {0}")]
    public double Hybrid { get; init; }

    public void Validate()
    {
        if (!(Hybrid >= 0 && Hybrid <= 100)) throw new ConfigError("hybrid", $"must be in [0, 100] (0: teacherless alone), got {OptionSpec.Text(Hybrid)}");
    }
}

/// <summary>
/// Teacherless (multi-token) training: every target input is replaced by the filler token '$', so the
/// model must predict the whole answer from the prefix alone, all positions in one parallel pass.
/// No true earlier target is ever shown, which removes the Clever-Hans shortcut. With
/// <see cref="TeacherlessOptions.Hybrid"/> w > 0 the loss is ntp's plus w times the teacherless one and the
/// model answers left to right, as Nagarajan et al.'s open-ended experiments train and decode it.
/// </summary>
[Method("teacherless", "all target inputs replaced by '$'; the answer decoded in one pass (or, hybrid, ntp plus teacherless rows, decoded left to right)",
    PerPositionLoss = true, Options = typeof(TeacherlessOptions))]
public sealed class Teacherless(MethodContext context) : BackboneMethod(context)
{
    private readonly int _filler = context.Task.FillerToken;
    private readonly TeacherlessOptions _options = context.OptionsOf<TeacherlessOptions>();

    private bool IsHybrid => _options.Hybrid > 0;

    public override TeacherlessOptions ResolvedOptions => _options;

    /// <summary>Teacherless: the mean cross-entropy of the one-pass answer. Hybrid: ntp's teacher-forced loss plus w times that.</summary>
    public override Tensor Loss(Batch batch)
    {
        var teacherless = TargetLoss(AnswerLogits(batch.Prefix), batch.Target);
        if (!IsHybrid) return teacherless;
        var nextToken = TargetLoss(TargetLogits(TeacherForcedInput(batch.Prefix, batch.Target)), batch.Target);
        return nextToken.Plus(teacherless.Times(_options.Hybrid));
    }

    public override Tensor Decode(Tensor prefix) => IsHybrid ? Generate(prefix, forced: null) : AnswerLogits(prefix).argmax(-1);

    /// <summary>
    /// Teacherless: each position drawn on its own from the one parallel pass, nothing tying a token to the ones drawn
    /// beside it. Hybrid: left to right, each token drawn given the ones before it.
    /// </summary>
    public override Tensor Sample(Tensor prefix, double temperature, Generator generator) => IsHybrid
        ? Generate(prefix, forced: null, temperature, generator)
        : Pick(AnswerLogits(prefix), temperature, generator).squeeze(-1);

    public override Tensor TeacherForced(Batch batch) => IsHybrid
        ? TargetLogits(TeacherForcedInput(batch.Prefix, batch.Target)).argmax(-1)
        : Decode(batch.Prefix);

    private Tensor AnswerLogits(Tensor prefix)
    {
        var fillers = HeldScalars.Full(prefix.shape[0], TargetLength - 1, _filler, ScalarType.Int64, prefix.device);
        return TargetLogits(cat([prefix, fillers], 1)); // input (B, P + T - 1)
    }
}
