// The toolkit's library as one module: `import DKL` brings every layer (Package.swift and
// the README's "Architecture" say what each holds and what it may use).
@_exported import DKLCore
@_exported import DKLNumerics
@_exported import DKLData
@_exported import DKLImaging
@_exported import DeepKernel
@_exported import VAE
@_exported import FerroSim
@_exported import Plot
