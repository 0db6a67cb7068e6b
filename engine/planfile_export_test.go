package engine

// DecodePlanFile is LoadPlan after reading the file, for FuzzLoadPlan (no file written per input).
var DecodePlanFile = decodePlanFile
