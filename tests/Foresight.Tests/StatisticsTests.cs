using Foresight.Evaluation;

namespace Foresight.Tests;

public sealed class StatisticsTests
{
    [Fact]
    public void Mean_and_student_t_margin()
    {
        var (mean, margin) = Statistics.MeanWithMargin([0.4, 0.5, 0.6]);
        Assert.Equal(0.5, mean, 12);
        Assert.Equal(4.303 * 0.1 / Math.Sqrt(3), margin, 12); // sd 0.1, t(0.975, 2) = 4.303
        Assert.Equal((0.7, 0.0), Statistics.MeanWithMargin([0.7]));
    }
}
