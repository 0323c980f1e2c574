using Microsoft.EntityFrameworkCore;

namespace Registry.Core.Persistence;

/// <summary>Hands out a provider's context as the provider-neutral <see cref="RegistryDbContext"/>.</summary>
public sealed class ProviderContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<RegistryDbContext>
    where TContext : RegistryDbContext
{
    public RegistryDbContext CreateDbContext() => inner.CreateDbContext();

    public async Task<RegistryDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await inner.CreateDbContextAsync(cancellationToken);
}
