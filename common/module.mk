# common/ — the base every module may use; includes nothing of ours.
LIBRARIES += common
common_SRCS := common/err.c common/log.c common/fault.c common/sys.c common/size.c
common_LDLIBS := -lqb

UNIT_TESTS += test_common
test_common_SRCS := tests/unit/common/test_common.c
test_common_LIBS := common
