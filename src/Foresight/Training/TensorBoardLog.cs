using Foresight.Evaluation;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Foresight.Training;

/// <summary>
/// TensorBoard event files in the run directory, so <c>tensorboard --logdir runs</c> shows every run.
/// The x axis is the optimizer step. A resumed run starts a second event file; TensorBoard merges them.
/// </summary>
public sealed class TensorBoardLog(string directory)
{
    private readonly SummaryWriter _writer = utils.tensorboard.SummaryWriter(directory);

    public void Step(int step, double loss, double learningRate)
    {
        _writer.add_scalar("train/loss", (float)loss, step);
        _writer.add_scalar("train/learning_rate", (float)learningRate, step);
    }

    public void Scalars(int step, IReadOnlyDictionary<string, double> values)
    {
        foreach (var (name, value) in values) _writer.add_scalar($"train/{name}", (float)value, step);
    }

    /// <summary>The test set's numbers under eval/, and the training sample's under eval_train_set/.</summary>
    public void Evaluation(int step, EvalMetrics metrics, EvalMetrics trainSet)
    {
        _writer.add_scalar("eval_train_set/exact_match", (float)trainSet.ExactMatch, step);
        _writer.add_scalar("eval_train_set/first_decision_accuracy", (float)trainSet.FirstDecisionAccuracy, step);
        _writer.add_scalar("eval_train_set/teacher_forced_accuracy", (float)trainSet.TeacherForcedAccuracy, step);
        _writer.add_scalar("eval/exact_match", (float)metrics.ExactMatch, step);
        _writer.add_scalar("eval/first_decision_accuracy", (float)metrics.FirstDecisionAccuracy, step);
        _writer.add_scalar("eval/first_decision_chance", (float)metrics.FirstDecisionChance, step);
        _writer.add_scalar("eval/teacher_forced_accuracy", (float)metrics.TeacherForcedAccuracy, step);
        for (int position = 0; position < metrics.PerPositionAccuracy.Length; position++)
            _writer.add_scalar($"eval_position/greedy_{position}", (float)metrics.PerPositionAccuracy[position], step);
    }
}
