using Registry.Core.Catalog;

namespace Registry.Tests.Core.Promotions;

public class VersionLifecycleTests
{
    /// <summary>Every pair of stages: the moves the issue allows, and a refusal naming the allowed moves for every other.</summary>
    [Theory]
    [InlineData(Stage.None, Stage.Staging, null)]
    [InlineData(Stage.None, Stage.None, "m v1 is already in None.")]
    [InlineData(Stage.None, Stage.Production, "m v1 is in None and cannot move to Production. From None a version can move to Staging.")]
    [InlineData(Stage.None, Stage.Archived, "m v1 is in None and cannot move to Archived. From None a version can move to Staging.")]
    [InlineData(Stage.Staging, Stage.Production, null)]
    [InlineData(Stage.Staging, Stage.Archived, null)]
    [InlineData(Stage.Staging, Stage.None, "m v1 is in Staging and cannot move to None. From Staging a version can move to Production or Archived.")]
    [InlineData(Stage.Staging, Stage.Staging, "m v1 is already in Staging.")]
    [InlineData(Stage.Production, Stage.Archived, null)]
    [InlineData(Stage.Production, Stage.None, "m v1 is in Production and cannot move to None. From Production a version can move to Archived.")]
    [InlineData(Stage.Production, Stage.Staging, "m v1 is in Production and cannot move to Staging. From Production a version can move to Archived.")]
    [InlineData(Stage.Production, Stage.Production, "m v1 is already in Production.")]
    [InlineData(Stage.Archived, Stage.Production, null)]
    [InlineData(Stage.Archived, Stage.Staging, null)]
    [InlineData(Stage.Archived, Stage.None, "m v1 is in Archived and cannot move to None. From Archived a version can move to Production or Staging.")]
    [InlineData(Stage.Archived, Stage.Archived, "m v1 is already in Archived.")]
    public void Each_move_is_allowed_or_refused_with_the_moves_that_exist(Stage from, Stage to, string? refusal)
    {
        var error = VersionLifecycle.CheckMove("m v1", from, to);
        Assert.Equal(refusal, error?.Detail);
        if (error is not null) Assert.Equal(Registry.Core.ErrorKind.Conflict, error.Kind);
    }

    [Fact]
    public void Moves_into_staging_and_production_need_a_passed_validation_and_archiving_does_not()
    {
        Assert.Equal([Stage.Staging, Stage.Production], Enum.GetValues<Stage>().Where(VersionLifecycle.NeedsPassedValidation));
    }
}
