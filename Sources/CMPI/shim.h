// Open MPI's handle macros (MPI_COMM_WORLD, MPI_DOUBLE, ...) are not imported by Swift;
// each is exposed through a static inline function.
#ifndef WHOLEBRAIN_CMPI_SHIM_H
#define WHOLEBRAIN_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm wb_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype wb_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype wb_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype wb_mpi_uint8(void) { return MPI_UINT8_T; }
static inline MPI_Op wb_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op wb_mpi_max(void) { return MPI_MAX; }
static inline void *wb_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *wb_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Datatype wb_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Info wb_mpi_info_null(void) { return MPI_INFO_NULL; }
#endif
