using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Registry.Core.Auditing;
using Registry.Core.Catalog;
using Registry.Core.Promotions;
using Registry.Core.Validation;

namespace Registry.Core.Persistence;

internal sealed class RegisteredModelConfiguration : IEntityTypeConfiguration<RegisteredModel>
{
    public void Configure(EntityTypeBuilder<RegisteredModel> b)
    {
        b.ToTable("Models");
        b.Property(m => m.Name).HasMaxLength(ModelNames.MaxLength);
        b.Property(m => m.NormalizedName).HasMaxLength(ModelNames.MaxLength);
        b.HasIndex(m => m.NormalizedName).IsUnique();
        b.Property(m => m.Description).HasMaxLength(MetadataLimits.DescriptionLength);
        b.Property(m => m.Card).HasMaxLength(MetadataLimits.CardLength);
        b.Property(m => m.CreatedBy).HasMaxLength(MetadataLimits.ActorLength);
        b.HasIndex(m => m.UpdatedAt);
        b.OwnsMany(m => m.Tags, t =>
        {
            t.ToTable("ModelTags");
            t.WithOwner().HasForeignKey("ModelId");
            t.HasKey("ModelId", nameof(Tag.Key));
            t.Property(x => x.Key).HasMaxLength(MetadataLimits.TagKeyLength);
            t.Property(x => x.Value).HasMaxLength(MetadataLimits.TagValueLength);
            t.HasIndex(nameof(Tag.Key), nameof(Tag.Value));
        });
        b.HasMany(m => m.Versions).WithOne(v => v.Model).HasForeignKey(v => v.ModelId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ModelVersionConfiguration : IEntityTypeConfiguration<ModelVersion>
{
    public void Configure(EntityTypeBuilder<ModelVersion> b)
    {
        b.ToTable("Versions");
        b.HasIndex(v => new { v.ModelId, v.Number }).IsUnique();
        b.HasIndex(v => new { v.ModelId, v.Stage }); // "has a version in stage X" for the model search
        b.HasIndex(v => v.ArtifactSha256);
        b.Property(v => v.ArtifactSha256).HasMaxLength(64);
        b.HasOne(v => v.Artifact).WithMany().HasForeignKey(v => v.ArtifactSha256).OnDelete(DeleteBehavior.Restrict);
        b.Property(v => v.Description).HasMaxLength(MetadataLimits.DescriptionLength);
        b.Property(v => v.Card).HasMaxLength(MetadataLimits.CardLength);
        // A stage move is optimistic: it only succeeds if the stage is still the one it read.
        b.Property(v => v.Stage).HasConversion<string>().HasMaxLength(16).IsConcurrencyToken();
        // At most one version of a model is in production, whatever races.
        b.HasIndex(v => v.ModelId).IsUnique().HasFilter("\"Stage\" = 'Production'").HasDatabaseName("IX_Versions_OneProductionPerModel");
        b.Property(v => v.ValidationStatus).HasConversion<string>().HasMaxLength(16);
        b.Property(v => v.Signature).HasJsonConversion();
        b.Property(v => v.Params).HasJsonConversion();
        b.Property(v => v.SourceCommit).HasMaxLength(MetadataLimits.CommitLength);
        b.Property(v => v.SourceRunUrl).HasMaxLength(MetadataLimits.UriLength);
        b.Property(v => v.CreatedBy).HasMaxLength(MetadataLimits.ActorLength);
        b.OwnsMany(v => v.Tags, t =>
        {
            t.ToTable("VersionTags");
            t.WithOwner().HasForeignKey("VersionId");
            t.HasKey("VersionId", nameof(Tag.Key));
            t.Property(x => x.Key).HasMaxLength(MetadataLimits.TagKeyLength);
            t.Property(x => x.Value).HasMaxLength(MetadataLimits.TagValueLength);
        });
        b.OwnsMany(v => v.Datasets, d =>
        {
            d.ToTable("VersionDatasets");
            d.WithOwner().HasForeignKey("VersionId");
            d.Property<long>("Id");
            d.HasKey("Id");
            d.Property(x => x.Name).HasMaxLength(MetadataLimits.NameLength);
            d.Property(x => x.Uri).HasMaxLength(MetadataLimits.UriLength);
            d.Property(x => x.Digest).HasMaxLength(MetadataLimits.DigestLength);
            d.HasIndex(nameof(DatasetRef.Name));
        });
        b.HasMany(v => v.Parents).WithOne().HasForeignKey(p => p.VersionId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(v => v.Metrics).WithOne().HasForeignKey(m => m.VersionId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(v => v.References).WithOne().HasForeignKey(r => r.VersionId).OnDelete(DeleteBehavior.Cascade);
        b.Property(v => v.SmokeTestShapes).HasJsonConversion();
    }
}

internal sealed class VersionReferenceConfiguration : IEntityTypeConfiguration<VersionReference>
{
    public void Configure(EntityTypeBuilder<VersionReference> b)
    {
        b.ToTable("VersionReferences");
        b.Property(r => r.Kind).HasConversion<string>().HasMaxLength(8);
        b.Property(r => r.Name).HasMaxLength(MetadataLimits.NameLength);
        b.Property(r => r.ArtifactSha256).HasMaxLength(64);
        b.HasOne(r => r.Artifact).WithMany().HasForeignKey(r => r.ArtifactSha256).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(r => new { r.VersionId, r.Kind, r.Position }).IsUnique();
    }
}

internal sealed class ValidationRunConfiguration : IEntityTypeConfiguration<ValidationRun>
{
    public void Configure(EntityTypeBuilder<ValidationRun> b)
    {
        b.ToTable("ValidationRuns");
        b.HasOne(r => r.Version).WithMany().HasForeignKey(r => r.VersionId).OnDelete(DeleteBehavior.Cascade);
        b.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        // A claim is only valid while its token is: completing or renewing with a stale token fails.
        b.Property(r => r.LeaseToken).IsConcurrencyToken();
        b.Property(r => r.LeaseOwner).HasMaxLength(200);
        b.Property(r => r.RequestedBy).HasMaxLength(MetadataLimits.ActorLength);
        b.Property(r => r.Summary).HasMaxLength(4000);
        b.Property(r => r.Runtime).HasMaxLength(100);
        b.Property(r => r.Isolation).HasMaxLength(100);
        b.Property(r => r.Checks).HasJsonConversion();
        b.Property(r => r.Figures).HasJsonConversion();
        b.HasIndex(r => new { r.Status, r.Id });
        b.HasIndex(r => new { r.VersionId, r.Id });
    }
}

internal sealed class VersionParentConfiguration : IEntityTypeConfiguration<VersionParent>
{
    public void Configure(EntityTypeBuilder<VersionParent> b)
    {
        b.ToTable("VersionParents");
        b.HasKey(p => new { p.VersionId, p.ParentVersionId });
        b.HasOne(p => p.Parent).WithMany().HasForeignKey(p => p.ParentVersionId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(p => p.ParentVersionId);
        b.Property(p => p.Relation).HasMaxLength(MetadataLimits.RelationLength);
    }
}

internal sealed class ArtifactConfiguration : IEntityTypeConfiguration<Artifact>
{
    public void Configure(EntityTypeBuilder<Artifact> b)
    {
        b.ToTable("Artifacts");
        b.HasKey(a => a.Sha256);
        b.Property(a => a.Sha256).HasMaxLength(64);
        b.Property(a => a.StorageKey).HasMaxLength(200);
    }
}

internal sealed class MetricConfiguration : IEntityTypeConfiguration<Metric>
{
    public void Configure(EntityTypeBuilder<Metric> b)
    {
        b.ToTable("Metrics");
        b.Property(m => m.Key).HasMaxLength(MetadataLimits.NameLength);
        b.Property(m => m.Dataset).HasMaxLength(MetadataLimits.NameLength);
        b.Property(m => m.LoggedBy).HasMaxLength(MetadataLimits.ActorLength);
        // Covering the search's "last value of this metric on that version", in the order it reads
        // (newest, then highest id): one backward index step per model, no sort and no table lookup.
        b.HasIndex(m => new { m.VersionId, m.Key, m.Dataset, m.LoggedAt, m.Id, m.Value });
        b.HasIndex(m => new { m.Key, m.Dataset, m.Value });
    }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> b)
    {
        b.ToTable("AuditEvents");
        b.Property(e => e.Actor).HasMaxLength(MetadataLimits.ActorLength);
        b.Property(e => e.Action).HasMaxLength(64);
        b.Property(e => e.Target).HasMaxLength(300);
        b.Property(e => e.ClientAddress).HasMaxLength(64);
        b.Property(e => e.PreviousHash).HasMaxLength(64);
        b.Property(e => e.Hash).HasMaxLength(64);
        b.HasIndex(e => e.At);
        b.HasIndex(e => new { e.Actor, e.At });
        b.HasIndex(e => new { e.Action, e.At });
        b.HasIndex(e => new { e.Target, e.At });
    }
}

internal sealed class RegistryUserConfiguration : IEntityTypeConfiguration<Access.RegistryUser>
{
    public void Configure(EntityTypeBuilder<Access.RegistryUser> b)
    {
        b.ToTable("Users");
        b.Property(u => u.Role).HasConversion<string>().HasMaxLength(16);
    }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<Access.ApiKey>
{
    public void Configure(EntityTypeBuilder<Access.ApiKey> b)
    {
        b.ToTable("ApiKeys");
        b.HasOne(k => k.User).WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        b.Property(k => k.Name).HasMaxLength(100);
        b.Property(k => k.Prefix).HasMaxLength(32);
        b.HasIndex(k => k.Prefix).IsUnique();
        b.Property(k => k.SecretHash).HasMaxLength(64);
        b.Property(k => k.Scopes).HasConversion<int>();
        b.Property(k => k.CreatedBy).HasMaxLength(MetadataLimits.ActorLength);
        b.Property(k => k.RevokedBy).HasMaxLength(MetadataLimits.ActorLength);
        b.HasIndex(k => new { k.UserId, k.CreatedAt });
    }
}

internal sealed class SettingConfiguration : IEntityTypeConfiguration<Access.Setting>
{
    public void Configure(EntityTypeBuilder<Access.Setting> b)
    {
        b.ToTable("Settings");
        b.HasKey(x => x.Key);
        b.Property(x => x.Key).HasMaxLength(100);
        b.Property(x => x.Value).HasMaxLength(1000);
    }
}

internal sealed class PromotionRequestConfiguration : IEntityTypeConfiguration<PromotionRequest>
{
    public void Configure(EntityTypeBuilder<PromotionRequest> b)
    {
        b.ToTable("PromotionRequests");
        b.HasOne(r => r.Model).WithMany().HasForeignKey(r => r.ModelId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(r => r.Version).WithMany().HasForeignKey(r => r.VersionId).OnDelete(DeleteBehavior.Restrict);
        b.HasMany(r => r.Votes).WithOne().HasForeignKey(v => v.RequestId).OnDelete(DeleteBehavior.Cascade);
        b.Property(r => r.FromStage).HasConversion<string>().HasMaxLength(16);
        b.Property(r => r.TargetStage).HasConversion<string>().HasMaxLength(16);
        // Closing or applying a request is optimistic too: a second decision on the same request re-reads it.
        b.Property(r => r.Status).HasConversion<string>().HasMaxLength(16).IsConcurrencyToken();
        b.Property(r => r.RequestedBy).HasMaxLength(MetadataLimits.ActorLength);
        b.Property(r => r.ClosedBy).HasMaxLength(MetadataLimits.ActorLength);
        b.Property(r => r.Comment).HasMaxLength(PromotionService.MaxCommentLength);
        b.Property(r => r.CloseComment).HasMaxLength(PromotionService.MaxCommentLength);
        b.Property(r => r.Note).HasMaxLength(1000);
        b.Property(r => r.Gates).HasJsonConversion();
        b.HasIndex(r => new { r.Status, r.Id });
        b.HasIndex(r => new { r.ModelId, r.Id });
        // One open request per version.
        b.HasIndex(r => r.VersionId).IsUnique().HasFilter("\"Status\" = 'Open'").HasDatabaseName("IX_PromotionRequests_OneOpenPerVersion");
    }
}

internal sealed class PromotionVoteConfiguration : IEntityTypeConfiguration<PromotionVote>
{
    public void Configure(EntityTypeBuilder<PromotionVote> b)
    {
        b.ToTable("PromotionVotes");
        b.Property(v => v.Decision).HasConversion<string>().HasMaxLength(16);
        b.Property(v => v.Actor).HasMaxLength(MetadataLimits.ActorLength);
        b.Property(v => v.Comment).HasMaxLength(PromotionService.MaxCommentLength);
        // One person decides once per request.
        b.HasIndex(v => new { v.RequestId, v.UserId }).IsUnique();
    }
}

internal sealed class ModelAliasConfiguration : IEntityTypeConfiguration<ModelAlias>
{
    public void Configure(EntityTypeBuilder<ModelAlias> b)
    {
        b.ToTable("ModelAliases");
        b.HasKey(a => new { a.ModelId, a.Name });
        b.Property(a => a.Name).HasMaxLength(AliasService.MaxLength);
        b.HasOne<RegisteredModel>().WithMany().HasForeignKey(a => a.ModelId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(a => a.Version).WithMany().HasForeignKey(a => a.VersionId).OnDelete(DeleteBehavior.Restrict);
        b.Property(a => a.UpdatedBy).HasMaxLength(MetadataLimits.ActorLength);
    }
}

internal sealed class ModelHistoryConfiguration : IEntityTypeConfiguration<ModelHistoryEntry>
{
    public void Configure(EntityTypeBuilder<ModelHistoryEntry> b)
    {
        b.ToTable("ModelHistory");
        b.HasOne<RegisteredModel>().WithMany().HasForeignKey(h => h.ModelId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(h => h.Version).WithMany().HasForeignKey(h => h.VersionId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(h => h.PreviousVersion).WithMany().HasForeignKey(h => h.PreviousVersionId).OnDelete(DeleteBehavior.Restrict);
        b.Property(h => h.Kind).HasConversion<string>().HasMaxLength(8);
        b.Property(h => h.FromStage).HasConversion<string>().HasMaxLength(16);
        b.Property(h => h.ToStage).HasConversion<string>().HasMaxLength(16);
        b.Property(h => h.Alias).HasMaxLength(AliasService.MaxLength);
        b.Property(h => h.Actor).HasMaxLength(MetadataLimits.ActorLength);
        b.Property(h => h.Reason).HasMaxLength(PromotionService.MaxCommentLength);
        b.HasIndex(h => new { h.ModelId, h.Kind, h.Id });
        b.HasIndex(h => new { h.ModelId, h.Alias, h.Id });
    }
}

internal sealed class ModelPolicyConfiguration : IEntityTypeConfiguration<ModelPolicy>
{
    public void Configure(EntityTypeBuilder<ModelPolicy> b)
    {
        b.ToTable("ModelPolicies");
        b.HasKey(p => p.ModelId);
        b.HasOne<RegisteredModel>().WithMany().HasForeignKey(p => p.ModelId).OnDelete(DeleteBehavior.Restrict);
        b.Property(p => p.Policy).HasJsonConversion();
        b.Property(p => p.UpdatedBy).HasMaxLength(MetadataLimits.ActorLength);
    }
}

internal sealed class ProtectionKeyConfiguration : IEntityTypeConfiguration<Access.ProtectionKey>
{
    public void Configure(EntityTypeBuilder<Access.ProtectionKey> b)
    {
        b.ToTable("ProtectionKeys");
        b.Property(x => x.FriendlyName).HasMaxLength(200);
    }
}
